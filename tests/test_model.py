"""Model arithmetic: names, shapes and counts, exact at any size, without allocating."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_spec import specs

from mlpcalc import ModelError, parse
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.model import Model
from mlpcalc.core.spec import Spec
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.flops import convention_total
from mlpcalc.costs.memory import MASK_BYTES, memory_report
from mlpcalc.costs.settings import Settings
from mlpcalc.documents import summary_document


@pytest.mark.parametrize(
    ("text", "rows", "total"),
    [
        # A Dense has inputs x units + units parameters, a BatchNormalization 4 per feature
        # (gamma, beta, moving mean and variance), a LayerNormalization 2 (gamma, beta).
        (
            "3->2->2->2 relu",
            [
                ("dense", (None, 2), 3 * 2 + 2),
                ("dense_1", (None, 2), 2 * 2 + 2),
                ("dense_2", (None, 2), 2 * 2 + 2),
            ],
            8 + 6 + 6,
        ),
        (
            "784->512->10 relu",
            [("dense", (None, 512), 784 * 512 + 512), ("dense_1", (None, 10), 512 * 10 + 10)],
            401_920 + 5_130,
        ),
        (
            # The Dense act on the last axis: the 20 positions share one kernel.
            "20x16->32:gelu->bn->dropout(0.25)->8:softmax",
            [
                ("dense", (None, 20, 32), 16 * 32 + 32),
                ("batch_normalization", (None, 20, 32), 4 * 32),
                ("dropout", (None, 20, 32), 0),
                ("dense_1", (None, 20, 8), 32 * 8 + 8),
            ],
            544 + 128 + 264,
        ),
        (
            "64->256:nobias->bn->relu->10",
            [
                ("dense", (None, 256), 64 * 256),
                ("batch_normalization", (None, 256), 4 * 256),
                ("activation", (None, 256), 0),
                ("dense_1", (None, 10), 256 * 10 + 10),
            ],
            16_384 + 1_024 + 2_570,
        ),
        (
            "6x5x4->ln->relu->relu",
            [
                ("layer_normalization", (None, 6, 5, 4), 2 * 4),
                ("activation", (None, 6, 5, 4), 0),
                ("activation_1", (None, 6, 5, 4), 0),
            ],
            8,
        ),
    ],
)
def test_rows(text: str, rows: list[tuple[str, tuple[int | None, ...], int]], total: int) -> None:
    model = parse(text)
    assert [(layer.name, layer.output_shape, layer.params) for layer in model.layers] == rows
    assert model.total_params == total


def test_batch_norm_split() -> None:
    model = parse("20x16->32:gelu->bn->dropout(0.25)->8:softmax")
    bn = model.layers[1]
    # gamma and beta train; the moving mean and variance do not: 2 x 32 each.
    assert (bn.trainable_params, bn.non_trainable_params) == (2 * 32, 2 * 32)
    dense_params = 16 * 32 + 32 + 32 * 8 + 8
    assert (model.trainable_params, model.non_trainable_params) == (dense_params + 2 * 32, 2 * 32)


def test_huge_model_is_exact() -> None:
    model = parse("100000->100000*1000->10")
    total = 1000 * (100_000 * 100_000 + 100_000) + 100_000 * 10 + 10
    assert model.total_params == total == 10_000_101_000_010
    assert model.output_shape == (None, 10)
    assert model.params_bytes == 4 * total  # float32


def test_batch_and_name() -> None:
    model = parse("784->512->10", name="mnist", batch=32)
    assert model.input_shape == (32, 784)
    assert model.output_shape == (32, 10)
    assert summary_document(Figures(model, Settings(batch=32)))["name"] == "mnist"


@pytest.mark.parametrize(("name", "batch"), [("a/b", None), ("/", None), ("ok", 0), ("ok", -3)])
def test_bad_model_options(name: str, batch: int | None) -> None:
    with pytest.raises(ModelError):
        parse("3->2", name=name, batch=batch)


def test_variables_in_keras_order() -> None:
    model = parse("4->bn->3:nobias->ln")
    assert [(v.path, v.shape, v.trainable) for v in model.variables] == [
        ("batch_normalization/gamma", (4,), True),
        ("batch_normalization/beta", (4,), True),
        ("batch_normalization/moving_mean", (4,), False),
        ("batch_normalization/moving_variance", (4,), False),
        ("dense/kernel", (4, 3), True),
        ("layer_normalization/gamma", (3,), True),
        ("layer_normalization/beta", (3,), True),
    ]


@given(specs)
def test_rows_sum_to_the_totals(spec: Spec) -> None:
    model = Model(spec)
    assert sum(layer.params for layer in model.layers) == model.total_params
    assert sum(layer.trainable_params for layer in model.layers) == model.trainable_params
    assert sum(v.count for v in model.variables) == model.total_params
    document = summary_document(Figures(model, Settings()))
    assert sum(row["params"] for row in document["layers"]) == document["total_params"]


@given(specs)
def test_each_layer_feeds_the_next(spec: Spec) -> None:
    model = Model(spec)
    shape = spec.input_shape
    for layer in model.layers:
        assert layer.input_shape == shape
        shape = layer.output_shape[1:]
    assert model.output_shape == (None, *shape)


# What Keras 3's keras.src.utils.summary_utils.readable_memory_size returns for each size (checked
# with Keras 3.15.1): two decimals of the 1024-based unit, labelled KB, MB, GB, ...
@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0.0, "0.00 B"),
        (80.0, "80.00 B"),
        (1023.0, "1023.00 B"),
        (1024.0, "1.00 KB"),
        (407_050 * 4.0, f"{407_050 * 4 / 1024**2:.2f} MB"),
        (3 * 1024.0**3, "3.00 GB"),
        (1024.0**5 * 7.5, "7.50 PB"),
        # Keras divides once more than it labels past 1024 PB; mlpcalc prints what Keras prints.
        (1024.0**6, "1.00 PB"),
    ],
)
def test_readable_size_as_keras(size: float, text: str) -> None:
    from mlpcalc.render.formats import readable_size

    assert readable_size(size) == text


REPEATED = ["16:relu", "16", "bn", "ln", "dropout(0.5)", "relu", "8:gelu:nobias", "16*2:tanh", "flatten"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["6", "3x6", "2x3x6"]),
    st.lists(st.sampled_from(REPEATED), min_size=1, max_size=24),
    st.integers(1, 5),
)
def test_sums_over_distinct_placements_are_sums_over_every_layer(
    inputs: str, texts: list[str], batch: int
) -> None:
    # A parsed spec gives a repeated text one layer object, and the model sums each distinct
    # layer on each distinct input once, times its count: the sums over every layer, one by one.
    model = parse(f"{inputs}->" + "->".join(texts))
    layers = model.layers
    assert sum(count for _, count in model.placements) == len(layers)
    assert model.total_macs == sum(layer.layer.macs(layer.input_shape) for layer in layers)
    assert model.total_flops == sum(layer.layer.flops(layer.input_shape) for layer in layers)
    for convention in CONVENTIONS:
        each = [layer.layer.counted(convention, layer.input_shape) for layer in layers]
        assert convention_total(model, convention, batch) == sum(s * batch + f for s, f in each)
    kept = [layer.layer.kept_for_backward(layer.input_shape) for layer in layers]
    memory = memory_report(model, Settings(batch=batch))
    assert memory.saved_activations == batch * sum(4 * values + masks * MASK_BYTES for values, masks in kept)
