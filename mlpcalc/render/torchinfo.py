"""What torchinfo 1.8.0 prints for the PyTorch form of a model, character for character.

The PyTorch form (core/pytorch_form.py) is what `mlpcalc export --to pytorch` writes: an
`nn.Sequential` with one module per Keras layer, and after a Dense whose activation is not linear,
that activation as a module of its own. `torchinfo.summary(model, input_size=(batch, *features))`,
with its default columns (Output Shape, Param #) and rows (type:depth-idx), tells of each module
its class, its output shape and its parameters, and then:

- the parameters in total: every module's, all trainable (torch keeps BatchNormalization's moving
  statistics as buffers, not parameters: a BatchNorm1d has Keras's trainable gamma and beta alone);
- the mult-adds: each weight and bias times the batch, the positions of an input of rank > 2 not
  counted (the torchinfo convention of costs/flops.py);
- the input size: the input tensor's storage as Python's sys.getsizeof measures it, float32 values
  and the storage object's own 64 bytes (torch 2.13, CPython 3.11);
- the forward/backward pass size: the float32 output of every module with parameters, twice (the
  output, and its gradient);
- the params size: float32 parameters; in megabytes (10^6 bytes) to two decimals, as all sizes.

The totals pass through a float, as torchinfo's do: past 2^53 parameters they are rounded, where
the rows, Python integers, are not. The recordings in tests/golden/torchinfo/ are the reference.
"""

from __future__ import annotations

import math

from mlpcalc.core.dtypes import DTYPE_BYTES
from mlpcalc.core.model import Model
from mlpcalc.core.pytorch_form import TorchModule, torch_modules
from mlpcalc.costs.flops import convention_total

NAME_WIDTH = 40  # torchinfo's layer column, widened to a multiple of NAME_STEP for longer names
NAME_STEP = 5  # also the indent of each depth in that measure
COLUMN_WIDTH = 25  # col_width's default
HEADERS = ("Layer (type:depth-idx)", "Output Shape", "Param #")
FLOAT32 = DTYPE_BYTES["float32"]  # torchinfo's input_size makes float tensors; torch's default dtype
STORAGE_OBJECT_BYTES = 64  # sys.getsizeof(tensor.untyped_storage()) - its bytes, torch 2.13 on CPython 3.11
NO_VALUE = "--"
BRANCH = "├─"
ASCII_BRANCH = "+ "  # row_settings=("ascii_only", "depth")
CONTAINER = "Sequential"

# torchinfo labels the mult-adds with its Units enum, which Python >= 3.11 formats by member name.
MULT_ADDS_UNITS = ((10**12, "Units.TERABYTES"), (10**9, "Units.GIGABYTES"), (10**6, "Units.MEGABYTES"))


def _output_shape(module: TorchModule, batch: int) -> tuple[int, ...]:
    return (batch, *module.layer.output_features)


def torchinfo_summary(model: Model, *, ascii_only: bool = False) -> str:
    """torchinfo.summary(model, input_size=(batch, *features)) as printed, the batch 1 unless the
    model fixes one; `ascii_only`: with row_settings=("ascii_only", "depth")."""
    batch = model.batch or 1
    rows = torch_modules(model)
    branch = ASCII_BRANCH if ascii_only else BRANCH
    titles = [f"{module.class_name}: 1-{index}" for index, module in enumerate(rows, 1)]
    name_width = _name_width([(0, CONTAINER), *((1, title) for title in titles)])
    divider = "=" * (name_width + COLUMN_WIDTH * (len(HEADERS) - 1))
    lines = [divider, _row(name_width, *HEADERS), divider]
    lines.append(_row(name_width, CONTAINER, _shape((batch, *model.output_features)), NO_VALUE))
    for title, module in zip(titles, rows, strict=True):
        count = f"{module.params:,}" if module.params else NO_VALUE
        lines.append(_row(name_width, branch + title, _shape(_output_shape(module, batch)), count))
    params = sum(module.params for module in rows)
    input_bytes = FLOAT32 * batch * math.prod(model.spec.input_shape) + STORAGE_OBJECT_BYTES
    trained = [module for module in rows if module.params]
    pass_bytes = sum(2 * FLOAT32 * math.prod(_output_shape(module, batch)) for module in trained)
    params_bytes = FLOAT32 * params
    lines += [
        divider,
        f"Total params: {_total(params)}",
        f"Trainable params: {_total(params)}",
        f"Non-trainable params: {_total(0)}",
        _mult_adds(convention_total(model, "torchinfo", batch)),
        divider,
        f"Input size (MB): {_megabytes(input_bytes)}",
        f"Forward/backward pass size (MB): {_megabytes(pass_bytes)}",
        f"Params size (MB): {_megabytes(params_bytes)}",
        f"Estimated Total Size (MB): {_megabytes(input_bytes + pass_bytes + params_bytes)}",
        divider,
    ]
    return "\n".join(lines) + "\n"


def _name_width(titles: list[tuple[int, str]]) -> int:
    """The layer column: 40, or wider for the longest title at its depth, to a multiple of 5."""
    longest = max(len(title) + depth * NAME_STEP + 1 for depth, title in titles)
    return NAME_WIDTH if longest < NAME_WIDTH else math.ceil(longest / NAME_STEP) * NAME_STEP


def _row(name_width: int, name: str, *cells: str) -> str:
    """Each cell left-aligned in its width and a space; a longer one pushes the rest along."""
    return (f"{name:<{name_width}} " + "".join(f"{cell:<{COLUMN_WIDTH}} " for cell in cells)).rstrip()


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _total(count: int) -> str:
    """A parameter total as torchinfo writes it: through a float, so rounded past 2^53."""
    return f"{int(float(count)):,}"


def _mult_adds(count: int) -> str:
    """The mult-adds in millions, billions or trillions: an integral value without decimals."""
    scale, unit = next(((s, u) for s, u in MULT_ADDS_UNITS if count >= s), MULT_ADDS_UNITS[-1])
    value = count / float(scale)
    text = f"{int(value):,}" if value.is_integer() else f"{value:,.2f}"
    return f"Total mult-adds ({unit}): {text}"


def _megabytes(count: int) -> str:
    return f"{count / 1e6:0.2f}"
