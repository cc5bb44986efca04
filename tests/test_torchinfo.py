"""summary --style torchinfo against what torchinfo 1.8.0 printed for each model's PyTorch form.

The golden texts (golden/torchinfo/*.txt, listed in index.json) were recorded by
`~/.venvs/flops/bin/python tests/golden/torchinfo/record.py` from torch models built from plain
descriptions, never by mlpcalc (tests/golden/README.md). Where torch and torchinfo can be imported,
random models are also compared live, through the same recorder's builder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
from types import ModuleType
from typing import Any

import pytest
from conftest import GOLDEN
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app
from mlpcalc.core.activations import KINDS
from mlpcalc.render.torchinfo import torchinfo_summary

FOLDER = GOLDEN / "torchinfo"
INDEX = json.loads((FOLDER / "index.json").read_text())
CASES = INDEX["cases"]
PLAIN = [case for case in CASES if "row_settings" not in case]
ASCII = [case for case in CASES if case.get("row_settings") == ["ascii_only", "depth"]]


def expected(case: dict[str, Any]) -> str:
    return (FOLDER / case["file"]).read_text(encoding="utf-8")


def arguments(case: dict[str, Any]) -> list[str]:
    """The command for a case: --batch only when torchinfo ran on more than one sample."""
    batch = [] if case["batch"] == 1 else ["--batch", str(case["batch"])]
    return ["summary", case["spec"], "--style", "torchinfo", *batch]


def run(*args: str, columns: int = 80, charset: str = "utf-8") -> Any:
    return CliRunner(charset=charset).invoke(app, list(args), env={"COLUMNS": str(columns)})


def notes(case: dict[str, Any]) -> str:
    """What stderr says beside the table: mlpcalc's note on a Dense given more than one feature
    axis (torch's Linear acts on the last axis alike), nothing for any other model."""
    model = parse(case["spec"], batch=case["batch"] if case["batch"] != 1 else None)
    return "".join(f"Note: {note}\n" for note in model.notes)


def test_the_recordings_cover_every_layer_and_activation() -> None:
    assert INDEX["recorded_with"]["torchinfo"] == "1.8.0"
    assert len(CASES) >= 30
    assert {case["file"] for case in CASES} == {path.name for path in FOLDER.glob("*.txt")}
    layers = [layer for case in CASES for layer in case["layers"]]
    assert {layer[0] for layer in layers} == {"dense", "act", "bn", "ln", "dropout", "flatten"}
    activations = {layer[2] for layer in layers if layer[0] == "dense" and len(layer) > 2} | {
        layer[1] for layer in layers if layer[0] == "act"
    }
    assert {re.sub(r"\(.*", "", str(act)) for act in activations} >= set(KINDS)
    assert {"gelu", "gelu(tanh)", "elu(0.5)", "leaky_relu(0.1)"} <= activations
    assert any(layer[0] == "dense" and layer[3:] == [False] for layer in layers)  # :nobias
    texts = "".join(expected(case) for case in CASES)
    assert "BatchNorm1d" in texts and "BatchNormLastAxis" in texts and "Identity" in texts
    assert {1, 8, 4096} <= {case["batch"] for case in CASES}
    assert {2, 3, 4} <= {len(parse(case["spec"]).input_shape) for case in CASES}
    assert {"Units.MEGABYTES", "Units.GIGABYTES", "Units.TERABYTES"} <= set(re.findall(r"Units\.\w+", texts))
    assert max(parse(case["spec"]).total_params for case in CASES) > 2**53  # past a float's integers


@pytest.mark.parametrize("case", PLAIN, ids=[case["id"] for case in PLAIN])
def test_summary_prints_what_torchinfo_printed(case: dict[str, Any]) -> None:
    result = run(*arguments(case))
    assert result.exit_code == 0, result.output
    assert result.stdout == expected(case)
    assert result.stderr == notes(case)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_renderer_prints_what_torchinfo_printed(case: dict[str, Any]) -> None:
    model = parse(case["spec"], batch=case["batch"])
    assert torchinfo_summary(model, ascii_only=case in ASCII) == expected(case)


@pytest.mark.parametrize("case", ASCII, ids=[case["id"] for case in ASCII])
def test_an_ascii_terminal_gets_torchinfos_ascii_rows(case: dict[str, Any]) -> None:
    """Where stdout cannot take '├─', mlpcalc prints row_settings=("ascii_only", "depth")."""
    result = run(*arguments(case), charset="ascii")
    assert result.exit_code == 0, result.output
    assert result.stdout == expected(case)


@pytest.mark.parametrize("columns", [20, 80, 300])
def test_the_table_does_not_depend_on_the_terminal(columns: int) -> None:
    case = next(case for case in CASES if case["id"] == "wide_shapes")  # rows wider than the table
    result = run(*arguments(case), columns=columns)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected(case)


def test_batch_one_is_the_default() -> None:
    case = next(case for case in CASES if case["id"] == "mnist")
    assert run(*arguments(case), "--batch", "1").stdout == run(*arguments(case)).stdout == expected(case)


@pytest.mark.parametrize(
    ("extra", "hint", "message"),
    [
        (["--json"], "--style", "the torchinfo style is a table; it does not go with json"),
        (["--format", "json"], "--style", "the torchinfo style is a table; it does not go with json"),
        (["--format", "markdown"], "--style", "the torchinfo style is a table; it does not go with markdown"),
        (["--width", "90"], "--width", "it sizes the Keras table only"),
        *[
            (
                option,
                "--style",
                "it takes no --costs, --dtype, --optimizer, --mixed-precision or --flops-convention",
            )
            for option in (
                ["--costs"],
                ["--dtype", "float16"],
                ["--optimizer", "adam"],
                ["--mixed-precision"],
                ["--flops-convention", "torchinfo"],
            )
        ],
        (["--show-trainable"], "--style", "it takes no --show-trainable or --layer-range"),
        (["--layer-range", "dense", "dense_1"], "--style", "it takes no --show-trainable or --layer-range"),
        (["--name", "mlp"], "--name", "torchinfo shows no model name, only its class, Sequential"),
    ],
)
def test_options_torchinfo_has_no_use_for_are_refused(extra: list[str], hint: str, message: str) -> None:
    result = run("summary", "784->512->10 relu", "--style", "torchinfo", *extra, columns=200)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Invalid value for {hint}: " in result.stderr
    assert message in " ".join(result.stderr.split())


# ------------------------------------------------------------------ live, against torchinfo itself

ACTIVATION_TEXTS = [
    "relu", "sigmoid", "tanh", "softmax", "linear", "gelu", "gelu(tanh)", "elu", "elu(0.5)", "elu(2)", "selu",
    "softplus", "swish", "silu", "leaky_relu", "leaky_relu(0.1)",
]  # fmt: skip


@pytest.fixture(scope="module")
def recorder() -> ModuleType:
    """golden/torchinfo/record.py, whose builder makes the torch model of a plain description."""
    reason = "the live comparison runs torch and torchinfo (~/.venvs/flops has them: tests/golden/README.md)"
    pytest.importorskip("torch", reason=reason)
    pytest.importorskip("torchinfo", reason=reason)
    spec = importlib.util.spec_from_file_location("torchinfo_record", FOLDER / "record.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layer_descriptions() -> st.SearchStrategy[tuple[Any, ...]]:
    activation = st.sampled_from(ACTIVATION_TEXTS)
    return st.one_of(
        st.tuples(st.just("dense"), st.integers(1, 12), activation, st.booleans()),
        st.tuples(st.just("act"), activation),
        st.sampled_from([("bn",), ("ln",), ("flatten",)]),
        st.tuples(st.just("dropout"), st.sampled_from([0.0, 0.1, 0.25, 0.5])),
    )


@st.composite
def descriptions(draw: st.DrawFn) -> dict[str, Any]:
    """A model described as record.py takes it, and its spec, written from that description."""
    features = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    layers = draw(st.lists(layer_descriptions(), min_size=1, max_size=6))
    words = []
    for kind, *args in layers:
        if kind == "dense":
            units, activation, bias = args
            words.append(f"{units}:{activation}" + ("" if bias else ":nobias"))
        elif kind == "dropout":
            words.append(f"dropout({args[0]})")
        else:
            words.append(args[0] if kind == "act" else kind)
    spec = "->".join(["x".join(map(str, features)), *words])
    return {"spec": spec, "batch": draw(st.integers(1, 5)), "input": features, "layers": layers}


@given(description=descriptions())
@settings(max_examples=60, deadline=None)
def test_random_models_as_torchinfo_prints_them(recorder: ModuleType, description: dict[str, Any]) -> None:
    result = run(*arguments(description))
    assert result.exit_code == 0, result.output
    assert result.stdout == recorder.summary_text(description, meta=False)


@pytest.fixture(scope="module")
def exporter(recorder: ModuleType) -> ModuleType:
    """The PyTorch exporter, mlpcalc/interop/pytorch_code.py, where it is."""
    return pytest.importorskip("mlpcalc.interop.pytorch_code", reason="the PyTorch exporter is not here")


@given(description=descriptions())
@settings(max_examples=30, deadline=None)
def test_the_exported_script_prints_alike(exporter: ModuleType, description: dict[str, Any]) -> None:
    """The script `export --to pytorch` writes, run through torchinfo: the renderer's structure and
    the exporter's are one contract, and this holds them to it."""
    import torchinfo

    model = parse(description["spec"], batch=description["batch"])
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(exporter.pytorch_code(model, None), "<export>", "exec"), namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        torchinfo.summary(namespace["model"], input_size=(description["batch"], *description["input"]))
    assert printed.getvalue() == torchinfo_summary(model)
