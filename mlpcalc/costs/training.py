"""FLOPs of training: one step on a batch, an epoch, a whole run, and the time at a throughput.

A step on a batch of B samples is the forward pass, the backward pass and the optimizer's update.
Every figure is an exact integer, in mlpcalc's convention (docs/costs.md): a multiply-accumulate
counts two, an exp, log, tanh, erf, sqrt or power one, a compare-and-select (max, a mask) one,
and a sum of n values n. N below is the vectors a layer sees in the batch (B times the positions
of a rank-3+ input: a Dense acts on each, as at inference), C the channels (the last axis), E = N x C.

Forward, as training runs it: each layer's inference FLOPs (layers.py) times B, except two
layers that compute otherwise in training. BatchNormalization uses the batch's statistics,
per channel mean (N + 1), centre (N), square (N), variance (N + 1), epsilon, square root and
reciprocal (3), normalise, gamma, beta (3N), and updates its moving mean and variance (3 each):
C x (7N + 11). Dropout multiplies by its scaled mask: E (0 for a rate of 0, which Keras skips).

Backward, split in two. The loss and its gradient are not counted (they are not the model's).
- Inputs: every gradient with respect to a value the forward computed: a layer's input, and an
  activation's input, each activation's derivative times the incoming gradient (per element:
  each activation kind's `derivative`, core/activations.py). A Dense's input gradient is a
  matrix product, 2 x N x in x out.
  BatchNormalization, from dgamma and dbeta: two means per channel, x_hat x mean, subtract,
  subtract, times gamma x r (4 per element), gamma x r once per channel: 4E + 3C.
  LayerNormalization, per vector: g x gamma (C), its mean (C + 1), times x_hat (C), its mean
  (C + 1), x_hat x that, two subtractions, times r (4C): N x (8C + 2). Dropout: its mask, E.
  Flatten: nothing (a reshape).
- Weights: a Dense's kernel, 2 x N x in x out; its bias, the sum over the batch, N x out.
  Both normalizations recompute x_hat (2E) and sum g x x_hat (2E) and g (E): 5E.
Torch builds no backward for what no gradient needs, and so neither does this count: the layers
before the first one with trainable weights have no backward at all (the input needs no
gradient), and the first trainable layer computes its weights' gradient (and its activation's
derivative, which that needs) but not its input's.

Optimizer: the trainable parameters times the elementwise operations of Keras 3's update rule
(keras/src/optimizers/*.py, their defaults; the per-weight scalars such as beta ** t are left
out): each optimizer's `update_flops` in costs/optimizers.py. Mixed precision's loss scaling is not counted.

Matrix products are kept apart in each phase (`*_matmul`: 2 per multiply-accumulate): they are
what torch's FlopCounterMode counts, which tests/golden/training/facts.json records from a real
training step. An epoch is ceil(samples / batch) steps, the last one on the samples % batch left
over (its own, smaller batch, not a full one); a run is `epochs` epochs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from mlpcalc.core.errors import SettingsError
from mlpcalc.core.layers import (
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
    positions,
)
from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.core.quantities import NUMBER, SI_PREFIXES, exact, received
from mlpcalc.costs.optimizers import OPTIMIZERS
from mlpcalc.costs.settings import Settings


@dataclass(frozen=True)
class LayerStep:
    """One layer's FLOPs in a training step on a batch; `*_matmul` the matrix products' share."""

    name: str
    forward: int
    forward_matmul: int
    backward_inputs: int
    backward_inputs_matmul: int
    backward_weights: int
    backward_weights_matmul: int
    optimizer: int

    @property
    def backward(self) -> int:
        return self.backward_inputs + self.backward_weights

    @property
    def total(self) -> int:
        return self.forward + self.backward + self.optimizer


@dataclass(frozen=True)
class TrainingStep:
    """One training step on `batch` samples, updated by `optimizer_name`: every layer's FLOPs, and
    the sums."""

    batch: int
    optimizer_name: str
    layers: tuple[LayerStep, ...]

    def _sum(self, field: str) -> int:
        return sum(getattr(layer, field) for layer in self.layers)

    @property
    def forward(self) -> int:
        return self._sum("forward")

    @property
    def forward_matmul(self) -> int:
        return self._sum("forward_matmul")

    @property
    def backward_inputs(self) -> int:
        return self._sum("backward_inputs")

    @property
    def backward_inputs_matmul(self) -> int:
        return self._sum("backward_inputs_matmul")

    @property
    def backward_weights(self) -> int:
        return self._sum("backward_weights")

    @property
    def backward_weights_matmul(self) -> int:
        return self._sum("backward_weights_matmul")

    @property
    def optimizer(self) -> int:
        return self._sum("optimizer")

    @property
    def backward(self) -> int:
        return self.backward_inputs + self.backward_weights

    @property
    def matmul(self) -> int:
        return self.forward_matmul + self.backward_inputs_matmul + self.backward_weights_matmul

    @property
    def total(self) -> int:
        return self.forward + self.backward + self.optimizer


def _forward(built: BuiltLayer, batch: int) -> int:
    """A layer's forward FLOPs on `batch` samples, in training mode."""
    layer, shape = built.layer, built.input_shape
    if isinstance(layer, BatchNormalization):
        channels, vectors = shape[-1], batch * positions(shape)
        return channels * (7 * vectors + 11)
    if isinstance(layer, Dropout):
        return batch * math.prod(shape) if layer.rate else 0
    return batch * layer.flops(shape)


def _backward(built: BuiltLayer, batch: int, needs_input: bool) -> tuple[int, int, int, int]:
    """(inputs, their matrix products, weights, theirs) of a layer's backward pass on `batch`
    samples; `needs_input`: a layer before it has trainable weights."""
    layer, shape = built.layer, built.input_shape
    vectors, channels = batch * positions(shape), shape[-1]
    elements = vectors * channels
    if isinstance(layer, Dense):
        outputs, product = vectors * layer.units, 2 * vectors * channels * layer.units
        input_product = product if needs_input else 0
        derivative = outputs * layer.activation.derivative_flops
        return derivative + input_product, input_product, product + outputs * layer.use_bias, product
    if isinstance(layer, BatchNormalization):
        return (4 * elements + 3 * channels if needs_input else 0), 0, 5 * elements, 0
    if isinstance(layer, LayerNormalization):
        return (vectors * (8 * channels + 2) if needs_input else 0), 0, 5 * elements, 0
    if not needs_input:  # no weights, and nothing before it needs a gradient: no backward at all
        return 0, 0, 0, 0
    if isinstance(layer, Dropout):
        return (elements if layer.rate else 0), 0, 0, 0
    if isinstance(layer, ActivationLayer):
        return elements * layer.activation.derivative_flops, 0, 0, 0
    if isinstance(layer, Flatten):
        return 0, 0, 0, 0
    raise TypeError(f"no training cost for {type(layer).__name__}")  # pragma: no cover - every kind is above


def training_step(model: Model, batch: int, optimizer: str) -> TrainingStep:
    """The FLOPs of one training step of `model` on `batch` samples, updated by `optimizer`."""
    update = OPTIMIZERS[optimizer].update_flops
    layers: list[LayerStep] = []
    trained = False  # whether a layer so far has trainable weights
    for built in model.layers:
        inputs, inputs_matmul, weights, weights_matmul = _backward(built, batch, needs_input=trained)
        layers.append(
            LayerStep(
                built.name,
                forward=_forward(built, batch),
                forward_matmul=2 * batch * built.macs,
                backward_inputs=inputs,
                backward_inputs_matmul=inputs_matmul,
                backward_weights=weights,
                backward_weights_matmul=weights_matmul,
                optimizer=update * built.trainable_params,
            )
        )
        trained = trained or built.trainable_params > 0
    return TrainingStep(batch, optimizer, tuple(layers))


@dataclass(frozen=True)
class TrainingCost:
    """The FLOPs of training on `samples` samples for `epochs` epochs: each epoch's full steps,
    and a last, smaller step on the samples left over (None when the batch divides them)."""

    samples: int
    epochs: int
    step: TrainingStep
    last_step: TrainingStep | None

    @property
    def batch(self) -> int:
        return self.step.batch

    @property
    def full_steps(self) -> int:
        return self.samples // self.batch

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.samples // self.batch)

    @property
    def per_epoch(self) -> int:
        last = self.last_step.total if self.last_step else 0
        return self.full_steps * self.step.total + last

    @property
    def total(self) -> int:
        return self.epochs * self.per_epoch


def training_cost(model: Model, settings: Settings, samples: int, epochs: int) -> TrainingCost:
    """Training `model` on `samples` samples for `epochs` epochs, in batches of `settings.batch`
    (1 when none is set), with `settings`' optimizer (Adam when none is named)."""
    for key, value in (("samples", samples), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"expected a positive whole number of {key}, received {value!r}", key)
    batch, optimizer = settings.samples, settings.training_optimizer.name
    left = samples % batch
    last = training_step(model, left, optimizer) if left else None
    return TrainingCost(samples, epochs, training_step(model, batch, optimizer), last)


# ------------------------------------------------------------------ throughput and time

# A throughput: a number, an optional SI prefix and an optional unit (FLOPS, FLOP/s, FLOPs/s),
# case aside; a utilization: a number, or a percentage.
THROUGHPUT = re.compile(rf"\s*({NUMBER})\s*([KMGTPEZY]?)(FLOPS|FLOP/S|FLOPS/S)?\s*", re.IGNORECASE)
UTILIZATION = re.compile(rf"\s*({NUMBER})\s*(%?)\s*")
# The rates a time is worked out at: from 1 FLOP/s to 10^24 (a thousand times the fastest
# machine), so that every time is a number a float holds.
SLOWEST, FASTEST = 1, 10**24
THROUGHPUT_EXAMPLE = '50TFLOPS, "312 TFLOP/s" or 1.5e12'


def parse_throughput(text: str, key: str = "throughput") -> Fraction:
    """FLOP per second, exactly, from text such as "50TFLOPS", "312 TFLOP/s" or "1.5e12";
    `key` names the option in an error (throughput, device_peak)."""
    match = THROUGHPUT.fullmatch(text)
    # "1e" alone is a cut exponent more likely than an exaFLOP/s: "1EFLOPS" says the latter.
    if match is None or (match.group(2).upper() == "E" and not match.group(3)):
        raise SettingsError(
            f"expected FLOP per second, such as {THROUGHPUT_EXAMPLE}, received {received(text)}", key
        )
    return Fraction(exact(match.group(1))) * SI_PREFIXES[match.group(2).upper()]


def parse_utilization(text: str) -> Fraction:
    """The share of a device's peak a run reaches, exactly: "0.4" or "40%", above 0 and at most 1."""
    match = UTILIZATION.fullmatch(text)
    if match is not None:
        value = Fraction(exact(match.group(1))) / (100 if match.group(2) else 1)
        if 0 < value <= 1:
            return value
    raise SettingsError(
        f"expected a share of the peak above 0 and at most 1, such as 0.4 or 40%, received {received(text)}",
        "utilization",
    )


def throughput(
    rate: str | None = None, device_peak: str | None = None, utilization: str | None = None
) -> Fraction:
    """The FLOP/s a run reaches: `rate` as given, or `device_peak` times `utilization`."""
    if rate is not None:
        if device_peak is not None or utilization is not None:
            other = "--device-peak" if device_peak is not None else "--utilization"
            raise SettingsError(
                f"expected a throughput or a device's peak and its utilization, not both: drop {other}",
                "throughput",
            )
        return _in_range(parse_throughput(rate), rate, "throughput")
    if device_peak is not None and utilization is not None:
        peak = _in_range(parse_throughput(device_peak, "device_peak"), device_peak, "device_peak")
        return _in_range(
            peak * parse_utilization(utilization), f"{device_peak} x {utilization}", "utilization"
        )
    missing = "throughput" if device_peak is None and utilization is None else "device_peak"
    raise SettingsError(
        "expected a throughput (--throughput 50TFLOPS), or a device's peak and the share of it reached "
        "(--device-peak 312TFLOPS --utilization 0.4)",
        "utilization" if device_peak is not None else missing,
    )


def _in_range(rate: Fraction, given: str, key: str) -> Fraction:
    if not SLOWEST <= rate <= FASTEST:
        raise SettingsError(
            f"expected a throughput from {SLOWEST} to {FASTEST:.0e} FLOP/s, received {received(given)}",
            key,
        )
    return rate


def time_seconds(flops: int, flops_per_second: Fraction) -> Fraction:
    """The seconds `flops` take at `flops_per_second`, exactly."""
    return Fraction(flops) / flops_per_second
