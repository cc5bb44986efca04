"""What `mlpcalc forward` and `mlpcalc init` print: the run, the output, its statistics."""

from __future__ import annotations

import time
from typing import Any

from mlpcalc.engine.run import Run
from mlpcalc.model import DEFAULT_NAME, Model
from mlpcalc.render.formats import readable_size, shape_text

FORWARD_SCHEMA = "mlpcalc/forward/v1"
INIT_SCHEMA = "mlpcalc/init/v1"


def _weights_text(run: Run) -> str:
    return f"from {run.weights_path}" if run.weights_path else f"{run.init}, seed {run.seed}"


def _input_text(run: Run) -> str:
    if run.input_path is not None:
        return f"{shape_text(run.input_shape)} from {run.input_path}, as {run.dtype}"
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
        + (f", written to {run.output_path}" if run.output_path else ""),
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
    if len(run.model.layers) == 1 and run.model.layers[0].keras_class == "Dense":
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


def forward_document(run: Run) -> dict[str, Any]:
    """The `mlpcalc/forward/v1` JSON document."""
    document: dict[str, Any] = {
        "schema": FORWARD_SCHEMA,
        "spec": str(run.model.spec),
        "name": run.model.name,
        "input_shape": list(run.input_shape),
        "output_shape": list(run.output.shape),
        "dtype": run.dtype,
        "seed": run.seed,
        "init": run.init,
        "weights_path": run.weights_path,
        "input_path": run.input_path,
        "output_path": run.output_path,
        "chunk": run.chunk,
        "timing": {
            "init_seconds": run.init_seconds,
            "forward_seconds": run.forward_seconds,
            "total_seconds": run.init_seconds + run.forward_seconds,
        },
        "output_stats": run.output_stats.to_dict(),
    }
    if run.layer_stats is not None:
        document["layers"] = [
            {"name": layer.name, "type": layer.keras_class, **stats.to_dict()}
            for layer, stats in zip(run.model.layers, run.layer_stats, strict=True)
        ]
    return document


def init_text(model: Model, path: str, init: str, seed: int) -> str:
    count = len(model.variables)
    return (
        f"wrote {path}: {count} variables, {model.total_params:,} parameters "
        f"({readable_size(model.params_bytes)} float32), {init}, seed {seed}\n"
    )


def init_document(model: Model, path: str, init: str, seed: int) -> dict[str, object]:
    """The `mlpcalc/init/v1` JSON document."""
    return {
        "schema": INIT_SCHEMA,
        "spec": str(model.spec),
        "path": path,
        "init": init,
        "seed": seed,
        "variables": [variable.to_dict() for variable in model.variables],
        "total_params": model.total_params,
    }


class Progress:
    """A progress bar on stderr for work that lasts: it appears only after a second."""

    DELAY = 1.0

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled, self.console = enabled, console
        self.started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or (done >= total and self._bar is None):
            return
        if self._bar is None:
            if time.perf_counter() - self.started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("forward"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"),
                TimeRemainingColumn(), console=self.console or Console(stderr=True), transient=True,
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("forward", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
