"""A built model: Keras's layer names, output shapes and parameter counts, by arithmetic.

Nothing here allocates a weight: counts are Python integers, exact at any size.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass
from functools import cached_property

from mlpcalc.core.dtypes import DEFAULT_DTYPE, DTYPE_BYTES
from mlpcalc.core.errors import ModelError
from mlpcalc.core.layers import Dense, Flatten, Layer, Shape, VariableShape
from mlpcalc.core.spec import Spec, parse_spec
from mlpcalc.core.text import shown

DEFAULT_NAME = "sequential"

BatchShape = tuple[int | None, ...]  # a shape with the batch axis first (None: any batch)


@dataclass(frozen=True)
class Variable:
    """One weight of a built model: `dense/kernel`, shape (784, 512), trainable."""

    layer: str
    name: str
    shape: Shape
    trainable: bool

    @property
    def path(self) -> str:
        """The key in a weights file and the name `mlpcalc variables` prints."""
        return f"{self.layer}/{self.name}"

    @property
    def count(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class BuiltLayer:
    """A layer placed in a model: its Keras name, the shapes it sees and its parameters
    (derived once, when the model places it: a 10,000-layer model reads them many times)."""

    name: str
    layer: Layer
    input_shape: Shape  # feature shape, without the batch
    batch: int | None
    output_features: Shape  # the output shape without the batch axis
    params: int
    trainable_params: int

    @property
    def keras_class(self) -> str:
        return self.layer.keras_class

    @property
    def output_shape(self) -> BatchShape:
        return (self.batch, *self.output_features)

    @cached_property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(_placed(self.name, v) for v in self.layer.variables(self.input_shape))

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    @property
    def macs(self) -> int:
        """Multiply-accumulates per sample (matrix products only)."""
        return self.layer.macs(self.input_shape)

    @property
    def flops(self) -> int:
        """Arithmetic operations per sample, in mlpcalc's convention (see layers.py)."""
        return self.layer.flops(self.input_shape)


@functools.lru_cache(maxsize=1024)  # a long model repeats its layers: each is counted once
def _counts(layer: Layer, input_shape: Shape) -> tuple[int, int]:
    """A layer's (parameters, trainable ones) on `input_shape`, in one pass over its variables."""
    total = trainable = 0
    for variable in layer.variables(input_shape):
        total += variable.count
        trainable += variable.count if variable.trainable else 0
    return total, trainable


def _placed(layer_name: str, variable: VariableShape) -> Variable:
    return Variable(layer_name, variable.name, variable.shape, variable.trainable)


@dataclass(frozen=True)
class Model:
    """A Keras `Sequential` model as the spec describes it, with its derived numbers."""

    spec: Spec
    name: str = DEFAULT_NAME
    batch: int | None = None
    layer_names: tuple[str, ...] | None = None  # as a model file saved them; None: Keras's automatic names

    def __post_init__(self) -> None:
        if self.layer_names is not None:
            _check_layer_names(self.layer_names, len(self.spec.layers))
            if self.layer_names == automatic_names(self.spec):  # one model, one value: equal to its spec's
                object.__setattr__(self, "layer_names", None)
        if "/" in self.name:  # Keras refuses it too: '/' separates a variable's path
            raise ModelError(f"the model name cannot contain '/', received {self.name!r}")
        if not self.name.isprintable():  # a newline or an escape code would garble the output
            raise ModelError(f"the model name must be printable text, received {self.name!r}")
        if shown(self.name) != self.name:  # Keras prints it raw: in a CI log, a workflow command
            raise ModelError(
                f"the model name cannot hold a GitHub Actions workflow command, received {shown(self.name)}"
            )
        if self.batch is not None and self.batch < 1:
            raise ModelError(f"the batch size must be a positive integer, received {self.batch}")

    @cached_property
    def layers(self) -> tuple[BuiltLayer, ...]:
        """Each layer with its name (Keras's automatic dense, dense_1, ... unless the model file
        gave names) and its input shape."""
        names = self.layer_names or automatic_names(self.spec)
        built: list[BuiltLayer] = []
        shape = self.spec.input_shape
        placed: dict[tuple[int, Shape], tuple[Shape, int, int]] = {}  # a long model repeats its layers
        for name, layer in zip(names, self.spec.layers, strict=True):
            if (derived := placed.get((id(layer), shape))) is None:
                derived = placed[id(layer), shape] = (layer.output_shape(shape), *_counts(layer, shape))
            built.append(BuiltLayer(name, layer, shape, self.batch, *derived))
            shape = derived[0]
        return tuple(built)

    @cached_property
    def placements(self) -> tuple[tuple[BuiltLayer, int], ...]:
        """Each distinct layer on each distinct input (the first such), and how many the model
        holds: a sum over a long model's layers, which repeat, is a short sum over these."""
        first: dict[tuple[int, Shape], BuiltLayer] = {}
        counts: dict[tuple[int, Shape], int] = {}
        for layer in self.layers:
            key = (id(layer.layer), layer.input_shape)
            first.setdefault(key, layer)
            counts[key] = counts.get(key, 0) + 1
        return tuple((layer, counts[key]) for key, layer in first.items())

    @property
    def has_automatic_names(self) -> bool:
        """Whether every layer has the name Keras would give it: the spec text then says it all."""
        return self.layer_names is None or self.layer_names == automatic_names(self.spec)

    @property
    def input_shape(self) -> BatchShape:
        return (self.batch, *self.spec.input_shape)

    @property
    def output_shape(self) -> BatchShape:
        return self.layers[-1].output_shape

    @property
    def output_features(self) -> Shape:
        """The output shape without the batch axis."""
        return self.layers[-1].output_features

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(v for layer in self.layers for v in layer.variables)

    def keras_path(self, variable: Variable) -> str:
        """Keras 3's path of a variable: sequential/dense/kernel (no prefix for a model named "")."""
        return f"{self.name}/{variable.path}" if self.name else variable.path

    @cached_property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @cached_property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def total_macs(self) -> int:
        return sum(layer.macs * count for layer, count in self.placements)

    @property
    def total_flops(self) -> int:
        return sum(layer.flops * count for layer, count in self.placements)

    @property
    def params_bytes(self) -> int:
        """The weights' size in float32, Keras's default dtype."""
        return self.total_params * DTYPE_BYTES[DEFAULT_DTYPE]

    @cached_property
    def notes(self) -> tuple[str, ...]:
        """Hints about a valid model that may not do what was meant, for the CLI to print on
        stderr (the core never prints): a Dense given more than one feature axis acts on the
        last one alone, as Keras's does, and 28x28->128 gives (None, 28, 128)."""
        for index, layer in enumerate(self.layers):
            if isinstance(layer.layer, Dense) and len(layer.input_shape) > 1:
                layers = self.spec.layers
                if any(isinstance(later, Flatten) for later in layers[index:]):
                    return ()  # flattened later, by design: a Dense per position first
                flattened = Spec(self.spec.input_shape, (*layers[:index], Flatten(), *layers[index:]))
                return (
                    f"{layer.name} acts on the last axis of its input {(self.batch, *layer.input_shape)} "
                    f"and gives {layer.output_shape}, as Keras's Dense does; for one vector of "
                    f"{math.prod(layer.input_shape):,} values per sample, flatten first: {flattened}",
                )
        return ()

    def layer_range(self, first: str, last: str) -> LayerRange:
        """The rows Keras's `summary(layer_range=(first, last))` shows, by Keras's rule.

        Keras reads each name as a regular expression matched at the start of a layer's name
        (`re.match`): the rows go from the first layer `first` matches to the last one `last`
        matches, both included, swapped if they come the other way round. A name that matches
        no layer, or is no regular expression, raises ModelError (Keras: ValueError, re.error).
        """
        names = [layer.name for layer in self.layers]
        found = [_matching(pattern, names) for pattern in (first, last)]
        missing = [pattern for pattern, indexes in zip((first, last), found, strict=True) if not indexes]
        if missing:
            raise ModelError(_no_match(missing, names))
        lower, upper = found
        if min(lower) > max(upper):
            start, stop = min(upper), max(lower) + 1
        else:
            start, stop = min(lower), max(upper) + 1
        return LayerRange(start, stop, _range_notes(first, last, names, lower, upper, (start, stop)))


@dataclass(frozen=True)
class LayerRange:
    """The layers a summary shows, `layers[start:stop]`, and notes on Keras's rule where its
    rows differ from what the names alone would say (the CLI prints them on stderr)."""

    start: int
    stop: int
    notes: tuple[str, ...] = ()


def _quoted(text: str) -> str:
    return f"'{text}'" if shown(text) == text else shown(text)


def _matching(pattern: str, names: list[str]) -> list[int]:
    """The indexes of the names `pattern` matches at their start, as Keras's re.match does."""
    try:
        compiled = re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as error:  # a{9999999999}, 1,000 nested groups
        raise ModelError(
            f"{_quoted(pattern)} is not a regular expression ({error}); Keras reads each name of "
            "layer_range as one: escape its special characters with a backslash"
        ) from None
    return [index for index, name in enumerate(names) if compiled.match(name)]


def _listed(names: list[str], limit: int = 12) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[: limit - 2]) + f", … ({len(names) - limit + 1:,} more), " + names[-1]


def _no_match(patterns: list[str], names: list[str]) -> str:
    """What to say of names that match no layer: the model's layers, and the nearest name."""
    which = " and ".join(_quoted(pattern) for pattern in patterns)
    verb = "matches" if len(patterns) == 1 else "match"
    text = f"{which} {verb} no layer of the model; its layers are {_listed(names)}"
    close = [difflib.get_close_matches(pattern, names, n=1) for pattern in patterns]
    hints = [f"{_quoted(p)}: did you mean {c[0]}?" for p, c in zip(patterns, close, strict=True) if c]
    return text + ("" if not hints else " (" + "; ".join(hints) + ")")


def _range_notes(
    first: str, last: str, names: list[str], lower: list[int], upper: list[int], rows: tuple[int, int]
) -> tuple[str, ...]:
    """Why Keras's rows are not what the two names, read as names, would give: a name that also
    matches longer ones (dense_1 matches dense_10), or a range given the other way round."""
    if first not in names or last not in names:
        return ()  # regular expressions written as such: the user knows the rule
    exact = sorted((names.index(first), names.index(last)))
    shown_rows = f"from {names[rows[0]]} to {names[rows[1] - 1]}"
    if (exact[0], exact[1] + 1) != rows:
        ambiguous = {pattern: found for pattern, found in ((first, lower), (last, upper)) if len(found) > 1}
        also = "; ".join(
            f"{_quoted(pattern)} also matches {_listed([names[i] for i in found if names[i] != pattern])}"
            for pattern, found in ambiguous.items()
        )
        return (
            f"{also}: Keras reads each name as a regular expression matched at the start of a layer's "
            f"name, so the rows go {shown_rows} (end a name with $ to match it alone: "
            f"'{next(iter(ambiguous))}$')",
        )
    if exact[0] != names.index(first):
        return (f"{first} comes after {last}: Keras shows the layers {shown_rows} all the same",)
    return ()


def automatic_names(spec: Spec) -> tuple[str, ...]:
    """Keras's names for a new model's layers: dense, dense_1, batch_normalization, ..."""
    seen: dict[str, int] = {}
    names = []
    for layer in spec.layers:
        prefix = _snake_case(layer.keras_class)
        count = seen.get(prefix, 0)
        seen[prefix] = count + 1
        names.append(prefix if count == 0 else f"{prefix}_{count}")
    return tuple(names)


def _check_layer_names(names: tuple[str, ...], layers: int) -> None:
    """Names a model file gave its layers: one each, unique (Keras refuses twins), and text
    that prints as it is and makes a variable path (no '/')."""
    if len(names) != layers:
        raise ModelError(f"expected {layers:,} layer names, one per layer, received {len(names):,}")
    seen: set[str] = set()
    for name in names:
        if not name or "/" in name or not name.isprintable() or shown(name) != name:
            raise ModelError(
                f"a layer name must be printable text without '/', received {shown(name) or repr(name)}"
            )
        if name in seen:
            raise ModelError(f"two layers are named {shown(name)}: Keras requires unique layer names")
        seen.add(name)


@functools.cache
def _snake_case(class_name: str) -> str:
    """Keras's automatic name prefix: BatchNormalization -> batch_normalization."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def parse(spec: str, *, name: str = DEFAULT_NAME, batch: int | None = None) -> Model:
    """Parse a spec into a Model: `parse("784->512->10 relu").total_params == 407050`."""
    return Model(parse_spec(spec), name=name, batch=batch)
