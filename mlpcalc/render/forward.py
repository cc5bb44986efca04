"""What `mlpcalc forward` and `mlpcalc init` print: the run, the output, its statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpcalc.core.layers import Dense
from mlpcalc.core.model import DEFAULT_NAME, Model
from mlpcalc.core.text import binary_size, shown
from mlpcalc.render.formats import shape_text

if TYPE_CHECKING:  # a type name only: the engine imports numpy
    from mlpcalc.engine.run import Run


def _weights_text(run: Run) -> str:
    return f"from {shown(run.weights_path)}" if run.weights_path else f"{run.init}, seed {run.seed}"


def _input_text(run: Run) -> str:
    if run.input_path is not None:
        return f"{shape_text(run.input_shape)} from {shown(run.input_path)}, as {run.dtype}"
    return f"{shape_text(run.input_shape)} {run.dtype}, standard normal, seed {run.seed}"


def _name(model: Model) -> str:
    return "" if model.name == DEFAULT_NAME else f'"{model.name}" '


def _float16_note(run: Run) -> str:
    return " (computed in float32)" if run.dtype == "float16" else ""


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.2f} s"


def forward_text(run: Run) -> str:
    """The default view: what ran, on what, how long it took, and the output summarised as NumPy does."""
    model = run.model
    lines = [
        f"model    {_name(model)}{model.spec} ({model.total_params:,} parameters)",
        f"weights  {_weights_text(run)}",
        f"input    {_input_text(run)}",
        f"time     init {_milliseconds(run.init_seconds)}, forward {_milliseconds(run.forward_seconds)}",
        f"output   {shape_text(run.output.shape)} {run.dtype}{_float16_note(run)}"
        + (f", written to {shown(run.output_path)}" if run.output_path else ""),
    ]
    text = "\n".join(lines) + "\n"
    if run.output_path is None:
        text += str(run.output) + "\n"
    if run.layer_stats is not None:
        text += "\n" + stats_table(run)
    return text


def classic_text(run: Run) -> str:
    """The output as TF 2 prints a tensor; for a single Dense, first its kernel and bias shapes."""
    lines = []
    if len(run.model.layers) == 1 and isinstance(run.model.layers[0].layer, Dense):
        lines += [shape_text(variable.shape) for variable in run.model.layers[0].variables]
    numbers = str(run.output)
    if "\n" in numbers:  # TF starts a many-line array on a line of its own
        numbers = "\n" + numbers
    lines.append(f"tf.Tensor({numbers}, shape={shape_text(run.output.shape)}, dtype={run.dtype})")
    return "\n".join(lines) + "\n"


def _number(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def stats_table(run: Run) -> str:
    """Per layer: mean, std, min, max, the fraction of exact zeros (dead ReLUs), NaN and Inf."""
    header = ("Layer (type)", "Output Shape", "mean", "std", "min", "max", "zeros", "NaN", "Inf")
    rows: list[tuple[str, ...]] = [header]
    assert run.layer_stats is not None
    for layer, stats in zip(run.model.layers, run.layer_stats, strict=True):
        summary = stats.to_dict()
        rows.append(
            (
                f"{layer.name} ({layer.keras_class})",
                shape_text((len(run.output), *layer.output_shape[1:])),
                *(_number(summary[key]) for key in ("mean", "std", "min", "max")),
                f"{summary['zeros_fraction']:.1%}",
                f"{summary['nan']:,}",
                f"{summary['inf']:,}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def init_text(model: Model, path: str, init: str, seed: int) -> str:
    count = len(model.variables)
    return (
        f"wrote {shown(path)}: {count} variables, {model.total_params:,} parameters "
        f"({binary_size(model.params_bytes)} float32), {init}, seed {seed}\n"
    )
