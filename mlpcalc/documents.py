"""Every JSON document mlpcalc prints, and its schema id: one module, one place to look.

Each `mlpcalc/NAME/v1` id has its JSON Schema in mlpcalc/schemas/NAME.v1.json. Documents are
plain dicts built from the core's objects; nothing here computes a figure (costs/ does).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.model import BuiltLayer, Model, Variable
from mlpcalc.core.text import V1_COMMAND
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.flops import by_convention
from mlpcalc.costs.memory import MemoryReport

if TYPE_CHECKING:  # type names only: importing the engine would import numpy
    from collections.abc import Mapping, Sequence
    from fractions import Fraction

    from mlpcalc.budgets import Budget, Outcome, Results
    from mlpcalc.costs.settings import Settings
    from mlpcalc.costs.training import TrainingCost
    from mlpcalc.design.fit import Fit, Frontier
    from mlpcalc.design.sweep import ComparedDesign
    from mlpcalc.diff import Diff
    from mlpcalc.engine.run import Run
    from mlpcalc.render.diagram import Drawn

SUMMARY_SCHEMA = "mlpcalc/summary/v1"
VARIABLES_SCHEMA = "mlpcalc/variables/v1"
CHECK_SCHEMA = "mlpcalc/check/v1"
DIFF_SCHEMA = "mlpcalc/diff/v1"
FORWARD_SCHEMA = "mlpcalc/forward/v1"
INIT_SCHEMA = "mlpcalc/init/v1"
COMPLETIONS_SCHEMA = "mlpcalc/completions/v1"
SPEC_SCHEMA = "mlpcalc/spec/v1"
EXPORT_SCHEMA = "mlpcalc/export/v1"
DIAGRAM_SCHEMA = "mlpcalc/diagram/v1"
COMPARE_SCHEMA = "mlpcalc/compare/v1"
FIT_SCHEMA = "mlpcalc/fit/v1"
FRONTIER_SCHEMA = "mlpcalc/frontier/v1"


def to_json(document: dict[str, Any], ascii_only: bool = False) -> str:
    """Indented JSON; with `ascii_only`, other characters are \\u-escaped (still valid JSON).
    Characters a terminal or a CI log would act on (controls, bidi overrides, GitHub's `##[`)
    are \\u-escaped too: the same JSON value, harmless text."""
    text = json.dumps(document, indent=2, ensure_ascii=ascii_only).replace(V1_COMMAND, "##\\u005b")
    if not text.replace("\n", "").isprintable():  # rare: only then look at each character
        text = "".join(c if c.isprintable() or c == "\n" else json.dumps(c)[1:-1] for c in text)
    return text + "\n"


# ------------------------------------------------------------------ summary


def _layer(layer: BuiltLayer, figures: Figures) -> dict[str, object]:
    return {
        "name": layer.name,
        "type": layer.keras_class,
        "output_shape": list(layer.output_shape),
        "params": layer.params,
        "trainable_params": layer.trainable_params,
        "non_trainable_params": layer.non_trainable_params,
        "macs": layer.macs,
        "flops": layer.flops,
        **layer.layer.config(),
        "convention_flops": figures.layer_flops(layer),
    }


def memory_dict(memory: MemoryReport) -> dict[str, object]:
    return {
        "batch": memory.batch,
        "dtype": memory.dtype,
        "optimizer": memory.optimizer,
        "mixed_precision": memory.mixed_precision,
        "params_bytes": memory.params,
        "inference_activation_bytes": memory.inference_activations,
        "inference_bytes": memory.inference,
        "weights_bytes": memory.weights,
        "gradient_bytes": memory.gradients,
        "optimizer_bytes": memory.optimizer_states,
        "saved_activation_bytes": memory.saved_activations,
        "training_bytes": memory.training,
    }


def summary_document(
    figures: Figures, with_optimizer: bool = False, training: dict[str, object] | None = None
) -> dict[str, object]:
    """The `mlpcalc/summary/v1` document. Costs are per sample, and per batch when the model
    has a fixed batch; the optimizer's line shows when one is named (or `with_optimizer`);
    `training` (training_dict) when costs --train asks; the model's notes (Model.notes) when
    it has any."""
    model, settings = figures.model, figures.settings
    convention = settings.flops_convention
    document: dict[str, object] = {
        "schema": SUMMARY_SCHEMA,
        "spec": str(model.spec),
        "name": model.name,
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
        "layers": [_layer(layer, figures) for layer in model.layers],
        "total_params": figures.params,
        "trainable_params": figures.trainable_params,
        "non_trainable_params": figures.non_trainable_params,
        "dtype": settings.dtype,
        "params_bytes": figures.params_bytes,
        "trainable_bytes": figures.trainable_bytes,
        "non_trainable_bytes": figures.non_trainable_bytes,
        "total_macs": figures.macs,
        "total_flops": model.total_flops,
        "flops_convention": convention,
        "convention_flops": figures.flops,
        "convention_unit": CONVENTIONS[convention].unit,
        "flops_by_convention": by_convention(model),
    }
    if settings.batch is not None:
        document["batch_macs"] = figures.batch_macs
        document["batch_flops"] = model.total_flops * settings.batch
        document["batch_convention_flops"] = figures.batch_flops
    if settings.optimizer is not None or with_optimizer:
        document["optimizer"] = settings.training_optimizer.name
        document["optimizer_params"] = figures.optimizer_params
    document["memory"] = memory_dict(figures.memory)
    if training is not None:
        document["training"] = training
    if model.notes:  # what the table prints on stderr: in the document, for programs
        document["notes"] = list(model.notes)
    return document


PHASES = ("forward", "backward_inputs", "backward_weights", "optimizer")
MATMUL_PHASES = ("forward_matmul", "backward_inputs_matmul", "backward_weights_matmul")


def training_dict(cost: TrainingCost, rate: Fraction | None, samples_given: bool) -> dict[str, object]:
    """A training run's FLOPs (costs/training.py): a step by phase and by layer; with
    `samples_given`, an epoch and the run; with `rate` (FLOP/s), the seconds of each."""
    step = cost.step
    document: dict[str, object] = {
        "batch": step.batch,
        "optimizer": step.optimizer_name,
        "step": {
            **{phase: getattr(step, phase) for phase in (*PHASES, *MATMUL_PHASES)},
            "total": step.total,
            "matmul": step.matmul,
            "layers": [
                {"name": layer.name, **{phase: getattr(layer, phase) for phase in (*PHASES, *MATMUL_PHASES)}}
                for layer in step.layers
            ],
        },
        "samples": cost.samples if samples_given else None,
        "epochs": cost.epochs if samples_given else None,
        "steps_per_epoch": cost.steps_per_epoch if samples_given else None,
        "last_batch": (cost.samples % cost.batch or None) if samples_given else None,
        "epoch_flops": cost.per_epoch if samples_given else None,
        "total_flops": cost.total if samples_given else None,
        "flops_per_second": None if rate is None else float(rate),
    }
    spans = {"step": step.total, "epoch": cost.per_epoch, "total": cost.total}
    for span, flops in spans.items():
        document[f"{span}_seconds"] = None
        if rate is not None and (span == "step" or samples_given):
            document[f"{span}_seconds"] = float(flops / rate)  # Fraction: exact until here
    return document


# ------------------------------------------------------------------ variables and init


def _variable(variable: Variable) -> dict[str, object]:
    return {
        "name": variable.path,
        "layer": variable.layer,
        "shape": list(variable.shape),
        "trainable": variable.trainable,
        "count": variable.count,
    }


def variables_document(model: Model) -> dict[str, object]:
    """The `mlpcalc/variables/v1` document."""
    return {
        "schema": VARIABLES_SCHEMA,
        "spec": str(model.spec),
        "name": model.name,
        "variables": [{**_variable(v), "path": model.keras_path(v)} for v in model.variables],
        "total_params": model.total_params,
        "trainable_params": model.trainable_params,
        "non_trainable_params": model.non_trainable_params,
    }


def spec_document(model: Model) -> dict[str, object]:
    """The `mlpcalc/spec/v1` document: a model file's spec, and the names it does not say."""
    return {
        "schema": SPEC_SCHEMA,
        "spec": str(model.spec),
        "name": model.name,
        "batch": model.batch,
        "layer_names": [layer.name for layer in model.layers],
        "automatic_names": model.has_automatic_names,
    }


def export_document(
    model: Model, target: str, output: str | None, code: str | None, weights: str
) -> dict[str, object]:
    """The `mlpcalc/export/v1` document: what `export` made, the code itself when not written."""
    return {
        "schema": EXPORT_SCHEMA,
        "spec": str(model.spec),
        "name": model.name,
        "target": target,
        "output": output,
        "code": code,
        "weights": weights,
        "total_params": model.total_params,
    }


def diagram_document(
    model: Model, image_format: str, output: str | None, svg: str | None, size: int, drawn: Drawn
) -> dict[str, object]:
    """The `mlpcalc/diagram/v1` document: what `diagram` drew, the SVG itself when not written."""
    return {
        "schema": DIAGRAM_SCHEMA,
        "spec": str(model.spec),
        "name": model.name,
        "format": image_format,
        "output": output,
        "svg": svg,
        "bytes": size,
        "layers": len(model.layers),
        "layers_folded": drawn.layers_folded,
        "edges": drawn.edges,
        "edges_drawn": drawn.edges_drawn,
    }


def init_document(model: Model, path: str, init: str, seed: int) -> dict[str, object]:
    """The `mlpcalc/init/v1` document."""
    return {
        "schema": INIT_SCHEMA,
        "spec": str(model.spec),
        "path": path,
        "init": init,
        "seed": seed,
        "variables": [_variable(variable) for variable in model.variables],
        "total_params": model.total_params,
    }


# ------------------------------------------------------------------ check


def _outcome(outcome: Outcome) -> dict[str, object]:
    expected, actual = outcome.expected, outcome.actual
    return {
        "key": outcome.key,
        "expected": list(expected) if isinstance(expected, tuple) else expected,
        "actual": list(actual) if isinstance(actual, tuple) else actual,
        "ok": outcome.ok,
        "by": outcome.excess,
        "file": outcome.budget.file,
        "line": outcome.budget.line_of(outcome.key),
    }


def check_document(results: Results, source: str) -> dict[str, object]:
    """The `mlpcalc/check/v1` document."""
    return {
        "schema": CHECK_SCHEMA,
        "source": source,
        "ok": all(o.ok for _, _, outcomes in results for o in outcomes),
        "models": [
            {
                "name": budget.name,
                "spec": str(model.spec),
                "ok": all(o.ok for o in outcomes),
                "checks": [_outcome(outcome) for outcome in outcomes],
            }
            for budget, model, outcomes in results
        ],
    }


# ------------------------------------------------------------------ diff


def _diff_layer(layer: BuiltLayer | None, diff: Diff) -> dict[str, object] | None:
    if layer is None:
        return None
    return {
        "name": layer.name,
        "type": layer.keras_class,
        "spec": str(layer.layer),
        "output_shape": list(layer.output_shape),
        "params": layer.params,
        "macs": diff.batch_macs(layer),
    }


def diff_document(diff: Diff) -> dict[str, object]:
    """The `mlpcalc/diff/v1` document: compute figures are for the batch (one sample by default)."""
    settings = diff.settings
    samples = settings.samples
    return {
        "schema": DIFF_SCHEMA,
        "a": str(diff.a.spec),
        "b": str(diff.b.spec),
        "batch": samples,
        "dtype": settings.dtype,
        "optimizer": settings.training_optimizer.name,
        "mixed_precision": settings.mixed_precision,
        "flops_convention": settings.flops_convention,
        "layers": [
            {
                "change": row.change,
                "a": _diff_layer(row.a, diff),
                "b": _diff_layer(row.b, diff),
                "params_delta": row.params_delta,
                "macs_delta": diff.batch_macs_delta(row),
            }
            for row in diff.rows
        ],
        "totals": diff.totals,
    }


# ------------------------------------------------------------------ compare


def _settings(settings: Settings) -> dict[str, object]:
    return {
        "batch": settings.samples,
        "dtype": settings.dtype,
        "optimizer": settings.training_optimizer.name,
        "mixed_precision": settings.mixed_precision,
        "flops_convention": settings.flops_convention,
    }


def _design(design: ComparedDesign, fields: Mapping[str, str]) -> dict[str, object]:
    document: dict[str, object] = {
        "index": design.index,
        "origin": design.origin,
        "source": design.source,
        "spec": design.spec,
        **{field: design.figure(name) for name, field in fields.items()},
        "fits": design.fits,
        "failed": list(design.failed or ()),
    }
    if design.figures.model.notes:  # what the table prints on stderr: in the document, for programs
        document["notes"] = list(design.figures.model.notes)
    return document


def compare_document(
    designs: Sequence[ComparedDesign],
    settings: Settings,
    limits: Mapping[str, int | tuple[int, ...]] | None,
    sort: str,
    reverse: bool,
) -> dict[str, object]:
    """The `mlpcalc/compare/v1` document: the designs in the order printed; compute for the
    batch (one sample by default); `fits` null and `fitting` null when no limit is given."""
    from mlpcalc.design.sweep import FIELDS  # here: it imports budgets, which summary does not need

    return {
        "schema": COMPARE_SCHEMA,
        **_settings(settings),
        "convention_unit": CONVENTIONS[settings.flops_convention].unit,
        "sort": sort,
        "reverse": reverse,
        "limits": {key: list(v) if isinstance(v, tuple) else v for key, v in (limits or {}).items()},
        "fitting": None if limits is None else sum(1 for design in designs if design.fits),
        "designs": [_design(design, FIELDS) for design in designs],
    }


# ------------------------------------------------------------------ fit


def _fit_head(schema: str, source: str, budget: Budget) -> dict[str, object]:
    """What a fit and a frontier share: the template, the settings and the limits."""
    limits = {key: value for key, value in budget.limits.items() if isinstance(value, int)}
    return {"schema": schema, "template": source, **_settings(budget.settings), "limits": limits}


def fit_document(found: Fit) -> dict[str, object]:
    """The `mlpcalc/fit/v1` document: each free size's value under its own name (names are
    capitals, the document's keys lowercase: they never meet), the design's spec, figures and
    the limits' slack."""
    from mlpcalc.design.sweep import FIELDS, FIGURES  # here: it imports budgets

    design = found.design
    figures = Figures(design.model, found.budget.settings)
    return {
        **_fit_head(FIT_SCHEMA, found.template.source, found.budget),
        "maximize": found.maximize,
        **design.values,
        "spec": str(design.model.spec),
        "figures": {field: FIGURES[name](figures) for name, field in FIELDS.items()},
        "slack": design.slack,
        "binds": {name: list(keys) for name, keys in found.binds.items()},
        "probes": found.probes,
        "notes": list(design.model.notes),
    }


def frontier_document(frontier: Frontier) -> dict[str, object]:
    """The `mlpcalc/frontier/v1` document: for each run of values of `along`, the largest
    value of `across` within the limits, and the design at the run's last value."""
    return {
        **_fit_head(FRONTIER_SCHEMA, frontier.template.source, frontier.budget),
        "along": frontier.along,
        "across": frontier.across,
        "steps": [
            {
                "first": step.first,
                "last": step.last,
                "best": step.best,
                "params": step.params,
                "spec": step.spec,
            }
            for step in frontier.steps
        ],
        "probes": frontier.probes,
    }


# ------------------------------------------------------------------ forward


def forward_document(run: Run) -> dict[str, Any]:
    """The `mlpcalc/forward/v1` document."""
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
        "estimated_peak_bytes": run.estimated_peak_bytes,
        "timing": {
            "init_seconds": run.init_seconds,
            "forward_seconds": run.forward_seconds,
            "total_seconds": run.init_seconds + run.forward_seconds,
        },
        "output_stats": run.output_stats.to_dict(),
    }
    if run.model.notes:  # what the text prints on stderr: in the document, for programs
        document["notes"] = list(run.model.notes)
    if run.layer_stats is not None:
        document["layers"] = [
            {"name": layer.name, "type": layer.keras_class, **stats.to_dict()}
            for layer, stats in zip(run.model.layers, run.layer_stats, strict=True)
        ]
    return document


# ------------------------------------------------------------------ completions


def completions_document(shell: str, script: str, installed: str | None) -> dict[str, object]:
    """The `mlpcalc/completions/v1` document: the script, and where --install wrote it."""
    return {"schema": COMPLETIONS_SCHEMA, "shell": shell, "script": script, "installed": installed}
