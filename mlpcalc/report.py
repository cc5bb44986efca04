"""The summary JSON document: a model's layers, counts, compute and memory, all in one place."""

from __future__ import annotations

from mlpcalc.conventions import CONVENTIONS, compute, convention_total, layer_count
from mlpcalc.memory import DTYPE_BYTES, memory_report, optimizer_params
from mlpcalc.model import SUMMARY_SCHEMA, Model


def summary_document(
    model: Model,
    *,
    dtype: str = "float32",
    optimizer: str | None = None,
    mixed_precision: bool = False,
    convention: str = "mlpcalc",
) -> dict[str, object]:
    """The `mlpcalc/summary/v1` document. Costs are per sample, and per batch when the model
    has a fixed batch; training memory assumes Adam unless `optimizer` says otherwise."""
    item = DTYPE_BYTES[dtype]
    batch = model.batch or 1
    figures = compute(model, convention, batch)
    document: dict[str, object] = {
        "schema": SUMMARY_SCHEMA,
        "spec": str(model.spec),
        "name": model.name,
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
        "layers": [
            {**layer.to_dict(), "convention_flops": layer_count(layer, convention)} for layer in model.layers
        ],
        "total_params": model.total_params,
        "trainable_params": model.trainable_params,
        "non_trainable_params": model.non_trainable_params,
        "dtype": dtype,
        "params_bytes": model.total_params * item,
        "trainable_bytes": model.trainable_params * item,
        "non_trainable_bytes": model.non_trainable_params * item,
        "total_macs": model.total_macs,
        "total_flops": model.total_flops,
        "flops_convention": convention,
        "convention_flops": figures.flops,
        "convention_unit": CONVENTIONS[convention].unit,
        "flops_by_convention": {name: convention_total(model, name, batch=1) for name in CONVENTIONS},
    }
    if model.batch is not None:
        document["batch_macs"] = figures.batch_macs
        document["batch_flops"] = model.total_flops * model.batch
        document["batch_convention_flops"] = figures.batch_flops
    if optimizer is not None:
        document["optimizer"] = optimizer
        document["optimizer_params"] = optimizer_params(model, optimizer, mixed_precision)
    report = memory_report(model, batch, dtype, optimizer or "adam", mixed_precision)
    document["memory"] = report.to_dict()
    return document
