"""Write the pictures the README and docs show, with mlpcalc itself, so that they never go stale:

    python scripts/generate_images.py           # rewrite docs/images/
    python scripts/generate_images.py --check   # exit 1 if a committed picture is stale

tests/test_diagram.py fails when a committed picture differs from what this writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlpcalc.core.model import parse
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.diagram import Options, draw
from mlpcalc.render.keras import summary_picture
from mlpcalc.render.keras_table import KERAS_DEFAULT_WIDTH

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"

# file name -> (spec, how to draw it)
DIAGRAMS = {
    "mnist.svg": ("784->512->256->10 relu", Options(title="An MNIST classifier")),
    "rank3.svg": ("16x32->64:gelu->bn->dropout(0.1)->flatten->128:relu->ln->10:softmax", Options()),
    "deep.svg": ("64->" + "->".join(["32:relu"] * 29) + "->10", Options(direction="vertical", max_neurons=8)),
    "dark.svg": ("784->512->10 relu", Options(theme="dark")),
}
# file name -> spec: `mlpcalc summary SPEC --svg FILE`
SUMMARIES = {"summary.svg": "784->512->256->10 relu"}


def images() -> dict[str, str]:
    """Every picture's file name and text."""
    pictures = {name: draw(parse(spec), options).svg for name, (spec, options) in DIAGRAMS.items()}
    summaries = {
        name: summary_picture("svg", Figures(parse(spec), Settings()), KERAS_DEFAULT_WIDTH)
        for name, spec in SUMMARIES.items()
    }
    return pictures | summaries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed picture differs")
    args = parser.parse_args()
    texts = images()
    stale = [
        name for name, text in texts.items() if not (OUT / name).exists() or (OUT / name).read_text() != text
    ]
    if args.check:
        if stale:
            sys.exit(f"pictures out of date: {', '.join(stale)}; run python scripts/generate_images.py")
        return
    OUT.mkdir(exist_ok=True)
    for name, text in texts.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(texts)} pictures to {OUT}")


if __name__ == "__main__":
    main()
