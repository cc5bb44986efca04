"""The pictures as people see them: drawn by a real headless browser (Debian's chromium), and the
screenshot read back pixel by pixel: not blank, and the labels' ink where the layout puts them.

Skipped, with the reason, where no chromium is installed; .ci/run installs it and sets
MLPCALC_REQUIRE_BROWSER, under which a missing browser fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_cli import run

SVG = "{http://www.w3.org/2000/svg}"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        message = "no headless browser: apt-get install chromium"
        if os.environ.get("MLPCALC_REQUIRE_BROWSER"):
            pytest.fail(f"{message} (MLPCALC_REQUIRE_BROWSER is set)")
        pytest.skip(message)
    return found


def screenshot(browser: str, page: Path, size: tuple[int, int], folder: Path) -> object:
    """The page as the browser draws it in a window of `size`, as a Pillow image."""
    from PIL import Image

    shot = folder / "shot.png"
    # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        f"--user-data-dir={folder / 'profile'}", f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}",
        page.as_uri(),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return Image.open(shot).convert("RGB")


def ink(image: object, box: tuple[float, float, float, float], colour: tuple[int, int, int]) -> int:
    """Pixels within `box` (left, top, right, bottom) close to `colour`."""
    left, top, right, bottom = (round(v) for v in box)
    crop = image.crop((left, top, right, bottom))  # type: ignore[attr-defined]
    return sum(
        count
        for count, pixel in crop.getcolors(maxcolors=2**20)
        if sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < 120
    )


def rgb(text: str) -> tuple[int, int, int]:
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_diagram_as_a_browser_draws_it(browser: str, theme: str, tmp_path: Path) -> None:
    page = tmp_path / "net.svg"
    result = run(
        "diagram",
        "6x5x4->8:relu->bn->dropout(0.2)->flatten->16:gelu->3:softmax",
        "-o",
        str(page),
        "--theme",
        theme,
    )
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(page.read_bytes())
    width, height = round(float(root.get("width", "0"))), round(float(root.get("height", "0")))
    image = screenshot(browser, page, (width, height), tmp_path)
    background = next(root.iter(f"{SVG}rect")).get("fill", "")
    colours = image.getcolors(maxcolors=2**20)  # type: ignore[attr-defined]
    assert colours is not None and len(colours) > 20, "the screenshot is blank"
    assert image.getpixel((2, 2)) == rgb(background)  # type: ignore[attr-defined]
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert len(labels) > 10
    for label in labels:  # each label's ink where the layout puts it
        x, y, size = (float(label.get(key, "0")) for key in ("x", "y", "font-size"))
        half = len(label.text or "") * size * 0.3
        colour = rgb(label.get("fill", ""))
        assert ink(image, (x - half, y - size, x + half, y + 2), colour) > 5, label.text
    neuron = next(c for c in root.iter(f"{SVG}circle") if c.get("class") == "neuron")
    cx, cy, r = (float(neuron.get(key, "0")) for key in ("cx", "cy", "r"))
    assert ink(image, (cx + r - 2, cy - 2, cx + r + 1, cy + 2), rgb(neuron.get("stroke", ""))) > 0


# Keras's colours as rich draws them (256-colour indexes 33, 34 and 45: the same in every theme).
KERAS_COLOURS = {"class": (0, 135, 255), "number": (0, 175, 0), "none": (0, 215, 255)}


@pytest.mark.parametrize("kind", ["svg", "html"])
def test_the_summary_as_a_browser_draws_it(browser: str, kind: str, tmp_path: Path) -> None:
    page = tmp_path / f"summary.{kind}"
    result = run("summary", "784->512->256->10 relu", f"--{kind}", str(page), columns=100)
    assert result.exit_code == 0, result.stderr
    image = screenshot(browser, page, (800, 420), tmp_path)
    colours = image.getcolors(maxcolors=2**20)  # type: ignore[attr-defined]
    assert colours is not None and len(colours) > 20, "the screenshot is blank"
    whole = (0, 0, 800, 420)
    for name, colour in KERAS_COLOURS.items():  # each of Keras's colours has its ink
        assert ink(image, whole, colour) > 20, name
    # The totals' line: Keras's number colour in the lower part, below the table.
    assert ink(image, (0, 250, 800, 420), KERAS_COLOURS["number"]) > 20
