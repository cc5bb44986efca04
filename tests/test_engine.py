"""The NumPy engine against the real Keras, and its own guarantees: shapes, determinism, memory."""

from __future__ import annotations

import json
import math
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_spec import spec_strategy

from mlpcalc import parse
from mlpcalc.core.errors import FileError, ResourceError, WeightsError
from mlpcalc.core.layers import Dense
from mlpcalc.core.model import Model
from mlpcalc.core.spec import Spec
from mlpcalc.engine import forward as forward_module
from mlpcalc.engine.arrays import release
from mlpcalc.engine.forward import (
    STATS_PIECE,
    NormalRows,
    Stats,
    WeightsSource,
    check_memory,
    forward,
    plan,
)
from mlpcalc.engine.names import INITIALIZERS
from mlpcalc.engine.weights import generators, init_weights, load_weights, save_weights

GOLDEN = Path(__file__).parent / "golden"
CASES = {case["id"]: case for case in json.loads((GOLDEN / "forward_cases.json").read_text())}
FIXTURES = sorted((GOLDEN / "forward").glob("*.npz"))


def keras_fixture(path: Path) -> tuple[Model, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    case = CASES[path.stem]
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    x, y = arrays.pop("x"), arrays.pop("y")
    return parse(case["spec"], batch=case.get("batch")), arrays, x, y


def test_there_are_enough_forward_fixtures() -> None:
    assert len(FIXTURES) >= 15
    assert {path.stem for path in FIXTURES} == set(CASES)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_forward_matches_keras(path: Path) -> None:
    model, weights, x, expected = keras_fixture(path)
    y = forward(plan(model, len(x)), weights, x)
    assert y.dtype == np.float32
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


CHUNKED = [
    GOLDEN / "forward" / f"{name}.npz"
    for name in (
        "rank3_gelu_bn_dropout",
        "rank4_bn_ln",
        "rank4_elu_softplus",
        "layernorm_dropout_mix",
        "large_x_softmax",
        "fixed_batch",
    )
]


@pytest.mark.parametrize("path", CHUNKED, ids=[p.stem for p in CHUNKED])
def test_forward_in_chunks_of_one_row_is_the_same(path: Path) -> None:
    model, weights, x, expected = keras_fixture(path)
    np.testing.assert_allclose(
        forward(plan(model, len(x), chunk=1), weights, x), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("path", FIXTURES[:6], ids=[p.stem for p in FIXTURES[:6]])
def test_weights_files_round_trip(path: Path, tmp_path: Path) -> None:
    model, weights, x, expected = keras_fixture(path)
    save_weights(tmp_path / "w.npz", weights)
    loaded = load_weights(tmp_path / "w.npz", model)
    assert list(loaded) == [v.path for v in model.variables]
    np.testing.assert_allclose(forward(plan(model, len(x)), loaded, x), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ weights


@pytest.mark.parametrize("init", list(INITIALIZERS))
def test_every_initializer_gives_the_model_shapes(init: str) -> None:
    model = parse("6x5->40:relu->bn->ln->30")
    weights = init_weights(model, generators(0)[0], init)
    assert {key: a.shape for key, a in weights.items()} == {v.path: v.shape for v in model.variables}
    assert all(a.dtype == np.float32 for a in weights.values())
    np.testing.assert_array_equal(weights["batch_normalization/moving_variance"], 1)
    np.testing.assert_array_equal(weights["dense/bias"], 0)


@pytest.mark.parametrize(
    ("init", "fan", "bound"),
    [
        ("glorot_uniform", (300 + 200) / 2, np.sqrt(3 / 250)),
        ("he_uniform", 300, np.sqrt(6 / 300)),
        ("lecun_uniform", 300, np.sqrt(3 / 300)),
    ],
)
def test_uniform_initializers_follow_keras(init: str, fan: float, bound: float) -> None:
    kernel = init_weights(parse("300->200"), generators(1)[0], init)["dense/kernel"]
    assert np.abs(kernel).max() <= bound
    assert np.abs(kernel).max() > 0.99 * bound
    assert kernel.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


@pytest.mark.parametrize(
    ("init", "variance"),
    [("glorot_normal", 1 / 250), ("he_normal", 2 / 300), ("lecun_normal", 1 / 300)],
)
def test_truncated_normal_initializers_follow_keras(init: str, variance: float) -> None:
    kernel = init_weights(parse("300->200"), generators(2)[0], init)["dense/kernel"]
    stddev = np.sqrt(variance) / 0.87962566103423978
    assert np.abs(kernel).max() <= 2 * stddev * (1 + 1e-6)  # truncated at two stddevs
    assert kernel.var() == pytest.approx(variance, rel=0.03)  # Keras's correction makes it exact


@pytest.mark.parametrize("spec", ["300->200", "200->300"])
def test_orthogonal_is_orthogonal(spec: str) -> None:
    kernel = init_weights(parse(spec), generators(3)[0], "orthogonal")["dense/kernel"].astype(np.float64)
    small = min(kernel.shape)
    gram = kernel.T @ kernel if kernel.shape[0] >= kernel.shape[1] else kernel @ kernel.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


@pytest.mark.parametrize("seed", [5, 6])
def test_each_seed_gives_its_own_documented_weights(seed: int) -> None:
    model = parse("20->30:relu->bn->10")
    weights, again = (init_weights(model, generators(seed)[0]) for _ in range(2))
    for key in weights:
        assert weights[key].tobytes() == again[key].tobytes()
    # The kernels, in layer order, from the first child of SeedSequence(seed): float32 uniforms
    # in [0, 1) scaled to Glorot's limit sqrt(6 / (fan_in + fan_out)). A seed that was not used,
    # or used for the other stream, would give other numbers.
    stream = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    for key, (fan_in, fan_out) in (("dense/kernel", (20, 30)), ("dense_1/kernel", (30, 10))):
        limit = np.sqrt(6 / (fan_in + fan_out))
        uniforms = stream.random((fan_in, fan_out), dtype=np.float32).astype(np.float64)
        np.testing.assert_allclose(weights[key], uniforms * 2 * limit - limit, rtol=1e-6, atol=1e-7)


def test_seeded_numbers_come_from_the_documented_stream() -> None:
    # Weights come from the first child of SeedSequence(seed), drawn as float32 uniforms in
    # [0, 1) and scaled to the Glorot limit: anyone can reproduce them with numpy alone.
    kernel = init_weights(parse("2->2"), generators(0)[0])["dense/kernel"]
    uniforms = np.random.default_rng(np.random.SeedSequence(0).spawn(2)[0]).random(4, dtype=np.float32)
    limit = np.sqrt(6 / (2 + 2))
    np.testing.assert_allclose(kernel.ravel(), uniforms * 2 * limit - limit, rtol=1e-6)
    # PCG64's stream for this seed; a numpy release that changed it would change every weight.
    assert uniforms[:2].tolist() == pytest.approx([0.8022, 0.9429], abs=1e-4)


def test_weights_file_problems_are_reported_together(tmp_path: Path) -> None:
    model = parse("4->3->bn->2")
    weights = init_weights(model, generators(0)[0])
    weights["dense/kernel"] = weights["dense/kernel"].T.copy()
    weights["dense_1/bias"] = np.zeros(2, dtype=np.int64)
    del weights["batch_normalization/beta"]
    weights["dense_9/kernel"] = np.zeros((1, 1), dtype=np.float32)
    save_weights(tmp_path / "bad.npz", weights)
    with pytest.raises(WeightsError) as caught:
        load_weights(tmp_path / "bad.npz", model)
    assert str(caught.value).splitlines()[1:] == [
        "  dense/kernel (layer dense): expected shape (4, 3), received (3, 4)",
        "  missing batch_normalization/beta (layer batch_normalization): expected shape (3,)",
        "  dense_1/bias (layer dense_1): expected float16, float32 or float64, received int64",
        "  unexpected dense_9/kernel: the model has no such variable",
    ]
    assert str(caught.value).splitlines()[0].endswith("does not fit 4->3->bn->2 (4 problems):")


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "absent.npz", "no such file"),
        (lambda d: d, "is a directory, not an .npz archive of weights"),
        (lambda d: Path("/dev/null"), "is not a regular file, not an .npz archive of weights"),
        (lambda d: _write(d / "empty.npz", b""), "the file is empty"),
        (lambda d: _write(d / "text.npz", b"hello, weights"), "is not an .npz archive of weights"),
        (
            lambda d: _write(d / "pickle.npz", pickle.dumps({"a": 1})),
            "holds pickled data, which mlpcalc never loads",
        ),
        (
            lambda d: _write(d / "trunc.npz", b"PK\x03\x04" + b"\0" * 40),
            "a damaged or truncated .npz archive",
        ),
    ],
)
def test_unreadable_weights_files(tmp_path: Path, make: Any, reason: str) -> None:
    with pytest.raises(WeightsError, match=re.escape(reason)):
        load_weights(make(tmp_path), parse("4->2"))


def test_truncated_and_npy_and_pickled_files(tmp_path: Path) -> None:
    model = parse("4->2")
    save_weights(tmp_path / "good.npz", init_weights(model, generators(0)[0]))
    whole = (tmp_path / "good.npz").read_bytes()
    _write(tmp_path / "cut.npz", whole[: len(whole) // 2])
    with pytest.raises(WeightsError, match=r"a damaged or truncated \.npz archive"):
        load_weights(tmp_path / "cut.npz", model)
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(WeightsError, match=r"holds a single array \(\.npy\)"):
        load_weights(tmp_path / "single.npy", model)
    with (tmp_path / "objects.npz").open("wb") as file:
        np.savez(file, **{"dense/kernel": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(
        WeightsError, match=r"dense/kernel: holds Python objects \(dtype object\), which mlpcalc never"
    ):
        load_weights(tmp_path / "objects.npz", model)


def test_saving_never_leaves_half_a_file(tmp_path: Path) -> None:
    weights = init_weights(parse("4->2"), generators(0)[0])
    with pytest.raises(FileError, match="no such folder"):
        save_weights(tmp_path / "missing" / "w.npz", weights)
    with pytest.raises(FileError, match="it is not a regular file"):
        save_weights(Path("/dev/null"), weights)
    save_weights(tmp_path / "w.npz", weights)
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temporary left behind


# ------------------------------------------------------------------ properties

small_specs = spec_strategy(8)


@settings(max_examples=40, deadline=None)
@given(small_specs)
def test_engine_agrees_with_the_model(spec: Spec) -> None:
    model = Model(spec)
    weights_rng, input_rng = generators(0)
    weights = init_weights(model, weights_rng)
    assert {key: a.shape for key, a in weights.items()} == {v.path: v.shape for v in model.variables}
    assert sum(a.size for a in weights.values()) == model.total_params
    x = input_rng.standard_normal((3, *spec.input_shape), dtype=np.float32)
    y = forward(plan(model, 3), weights, x)
    assert y.shape == (3, *model.output_shape[1:])


def test_stats_count_zeros_nans_and_infs() -> None:
    stats = Stats()
    stats.add(np.array([0.0, 1.0, -1.0, np.nan, np.inf, 0.0], dtype=np.float32))
    summary = stats.to_dict()
    assert (summary["nan"], summary["inf"], summary["zeros_fraction"]) == (1, 1, 2 / 6)
    assert (summary["mean"], summary["min"], summary["max"]) == (0.0, -1.0, 1.0)
    assert summary["std"] == pytest.approx(np.sqrt(0.5))


@pytest.mark.parametrize("scale", [1e-3, 1e3, 1e30])
def test_stats_of_a_block_summed_in_many_pieces(scale: float) -> None:
    # A block is summed in float64 a piece at a time (STATS_PIECE values): every piece counts,
    # the last, short one too, and values past 1 are scaled by a power of two on the way.
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((3 * STATS_PIECE + 5) // 5 * 5) * scale).astype(np.float32).reshape(-1, 5)
    stats = Stats()
    stats.add(values)
    exact = values.astype(np.float64).ravel()
    summary = stats.to_dict()
    assert summary["mean"] == pytest.approx(math.fsum(exact) / exact.size, rel=1e-12, abs=1e-12 * scale)
    assert summary["std"] == pytest.approx(float(np.std(exact)), rel=1e-9)
    assert (summary["min"], summary["max"]) == (exact.min(), exact.max())
    assert stats.count == exact.size


SPECIAL_VALUES = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.5, -2.0, 3e38, -3e38, 1e-45]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(SPECIAL_VALUES), min_size=3, max_size=3), min_size=1, max_size=30),
    st.integers(1, 4),
)
def test_stats_are_those_of_the_finite_values(rows: list[list[float]], pieces: int) -> None:
    # A block with no NaN or infinity skips the masks; either way the figures are those of the
    # finite values, counted as numpy counts them, whatever the blocks the output comes in.
    values = np.array(rows, dtype=np.float32)
    stats = Stats()
    for piece in np.array_split(values, pieces):
        stats.add(piece)
    finite = values[np.isfinite(values)].astype(np.float64)
    summary = stats.to_dict()
    assert (summary["nan"], summary["inf"]) == (int(np.isnan(values).sum()), int(np.isinf(values).sum()))
    assert summary["zeros_fraction"] == np.count_nonzero(values == 0) / values.size
    if finite.size:
        assert (summary["min"], summary["max"]) == (finite.min(), finite.max())
        # float64 sums: within a few rounding errors of the largest value of the exact mean
        assert summary["mean"] == pytest.approx(
            math.fsum(finite) / finite.size, abs=1e-12 * abs(finite).max()
        )
    else:
        assert summary["mean"] is summary["min"] is summary["max"] is None


# A row of the smallest float32 numbers gives products that round to -0.0 where negative.
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "spec", ["4->64:relu->3", "4->64->3 relu", "4->64:relu->64:relu->2:relu", "4->64:tanh"]
)
def test_a_zero_bias_before_a_relu_is_skipped_to_the_bit(
    spec: str, dtype: type[np.floating], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keras's initial bias is +0.0 everywhere: before a relu, adding it changes no bit of the
    # output (NaN, infinities and -0.0 inputs too), so the engine does not add it; before a
    # tanh it turns a -0.0 into +0.0, and is added.
    model = parse(spec)
    weights = init_weights(model, generators(0)[0], "glorot_uniform")
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array(
        [[tiny] * 4, [-0.0] * 4, [np.nan, 1.0, 2.0, 3.0], [np.inf, -np.inf, 0.0, 1.0]] * 3, dtype=dtype
    )
    skipped = forward(plan(model, len(x), dtype), weights, x)
    monkeypatch.setattr(forward_module, "_adds_bias", lambda layer, arrays: isinstance(layer, Dense))
    added = forward(plan(model, len(x), dtype), weights, x)
    assert skipped.tobytes() == added.tobytes()


def test_memory_check_refuses_before_allocating() -> None:
    model = parse("100000->100000*1000->10")
    # float32 weights: 4 bytes for each of 1000 x (100,000 x 100,000 + 100,000) + 100,000 x 10 + 10.
    tib = 4 * (1000 * (100_000 * 100_000 + 100_000) + 100_000 * 10 + 10) / 2**40
    message = (
        f"not enough memory for the weights: it needs {tib:.2f} TiB (weights {tib:.2f} TiB) "
        "and 1.00 GiB is available"
    )
    with pytest.raises(ResourceError, match=re.escape(message)):
        check_memory({"weights": plan(model, 1).weights_bytes}, "the weights", available=2**30)
    check_memory({"weights": 2**20}, "a little", available=2**30)


def test_memory_estimate_counts_buffers_and_output() -> None:
    model = parse("10->4096->10")
    the_plan = plan(model, rows=10**9, chunk=10**6)
    weights = 4 * (10 * 4096 + 4096 + 4096 * 10 + 10)  # float32 kernels and biases
    drawn = WeightsSource(total=weights, largest=4 * 4096 * 10, same_dtype=True)
    needed = the_plan.bytes_needed(drawn, output_in_memory=True)
    assert needed["weights"] == weights
    # The buffers as written: the input (10 wide) and the last Dense (10) in one, 4096 in the other;
    # then OpenBLAS's workspace, at most 8 MiB.
    touched = 10**6 * (10 + 4096) * 4
    assert touched <= needed["buffers"] <= touched + 8 * 2**20
    assert needed["output"] == 10**9 * 10 * 4
    # A chunk of float32 input (10**6 x 10), or the largest block's temporaries (the output's
    # statistics: 12 bytes an element, 2**16 elements), whichever is larger.
    assert needed["input or temporaries"] == max(10**6 * 10 * 4, 12 * 2**16)
    streamed = the_plan.bytes_needed(drawn, output_in_memory=False)
    assert streamed["output"] == 10**6 * 10 * 4  # a chunk of output at a time
    total = sum(needed.values())
    with pytest.raises(ResourceError, match=re.escape(f"it needs {total / 2**30:.2f} GiB (weights ")):
        check_memory(needed, "this", available=2**30)


def test_casting_weights_adds_the_largest_array_only() -> None:
    the_plan = plan(parse("4096->4096*4"), rows=1, dtype=np.float64)
    params = 4 * (4096 * 4096 + 4096)
    drawn = WeightsSource(total=4 * params, largest=8 * 4096 * 4096, same_dtype=False)
    needed = the_plan.bytes_needed(drawn)
    # Each float32 array is freed once cast: the float64 copies and one array twice at most.
    assert needed == {"weights": 8 * params + 8 * 4096 * 4096}


def test_no_numpy_warnings_for_overflow(recwarn: pytest.WarningsRecorder) -> None:
    model = parse("3->3:softmax->ln->3:gelu")
    weights = init_weights(model, generators(0)[0])
    stats = Stats()
    forward(plan(model, 2), weights, np.full((2, 3), 3e38, dtype=np.float32), output_stats=stats)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert stats.nans + stats.infs > 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_release_hands_pages_back(tmp_path: Path) -> None:
    def resident_mib() -> int:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) // 1024

    np.save(tmp_path / "x.npy", np.ones((64, 2**18), dtype=np.float32))  # 64 MiB
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    before = resident_mib()
    assert float(mapped.sum()) == 64 * 2**18  # touches every page
    touched = resident_mib()
    release(mapped, 0, len(mapped))
    assert touched - before > 48
    assert resident_mib() - before < 16
    assert float(mapped[-1].sum()) == 2**18  # still readable afterwards


def test_an_output_released_as_it_is_written_keeps_every_value(tmp_path: Path) -> None:
    # A streamed output's done rows are dropped from the process as they are written (on Linux
    # without waiting for the disk): what was written is in the file all the same.
    out = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.float32, shape=(64, 2**16))
    for row in range(64):
        out[row] = row
        release(out, row, row + 1)
    assert float(out[63, 0]) == 63  # the mapping reads it back
    del out
    assert (np.load(tmp_path / "y.npy")[:, -1] == np.arange(64)).all()  # and so does a new reader


@pytest.mark.parametrize(("rows", "chunk"), [(1000, 64), (128, 64), (65, 64), (64, 64), (1, 64)])
@pytest.mark.parametrize("spec", ["6x5->7:relu->bn->flatten->3:softmax", "6x5->bn->7:relu->flatten->3"])
def test_a_file_read_in_place_gives_what_a_copy_gives(
    spec: str, rows: int, chunk: int, tmp_path: Path
) -> None:
    # A mapped file in the compute dtype is read by the first Dense where it is, the next chunk
    # asked for ahead; a first layer that works in place gets a copy: the same outputs.
    model = parse(spec)
    weights = init_weights(model, generators(0)[0], "glorot_uniform")
    x = np.random.default_rng(2).standard_normal((rows, 6, 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    the_plan = plan(model, rows, np.float32, chunk)
    read = forward(the_plan, weights, mapped)
    drawn = forward(the_plan, weights, lambda start, stop: x[start:stop].copy())
    np.testing.assert_array_equal(read, drawn)
    np.testing.assert_array_equal(mapped, x)  # the input is never written


@pytest.mark.parametrize("spec", ["6x5->4:relu->3", "6x5->relu->4", "6x5->flatten->bn->2"])
@pytest.mark.parametrize("chunk", [1, 3, None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_drawn_input_is_drawn_into_the_buffer_as_it_would_be_drawn_alone(
    spec: str, chunk: int | None, dtype: type[np.floating]
) -> None:
    # In float32 the seeded rows are drawn where the first layer reads them (NormalRows.fill):
    # the same numbers as drawn whole, whatever the chunking, and as in float64 (drawn, then cast).
    model = parse(spec)
    weights = init_weights(model, generators(0)[0], "glorot_uniform")
    rows = 7
    x = np.random.default_rng(5).standard_normal((rows, 6, 5), dtype=np.float32)
    the_plan = plan(model, rows, dtype, chunk)
    drawn = forward(the_plan, weights, NormalRows(np.random.default_rng(5), (6, 5)))
    np.testing.assert_array_equal(drawn, forward(the_plan, weights, x))
