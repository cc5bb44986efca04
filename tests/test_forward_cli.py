"""`mlpcalc forward` and `mlpcalc init` through the command line: results, files, errors."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from test_cli import flat, run, schema

from mlpcalc.engine.weights import save_weights

GOLDEN = Path(__file__).parent / "golden" / "forward"


def keras_files(tmp_path: Path, case: str) -> tuple[Path, Path, np.ndarray]:
    """The weights and input of a Keras fixture as the files a user would pass."""
    with np.load(GOLDEN / f"{case}.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    x, y = arrays.pop("x"), arrays.pop("y")
    save_weights(tmp_path / "w.npz", arrays)
    np.save(tmp_path / "x.npy", x)
    return tmp_path / "w.npz", tmp_path / "x.npy", y


def test_default_view() -> None:
    result = run("forward", "784->512->10 relu")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"model    784->512:relu->10 ({784 * 512 + 512 + 512 * 10 + 10:,} parameters)"
    assert lines[1] == "weights  glorot_uniform, seed 0"
    assert lines[2] == "input    (4, 784) float32, standard normal, seed 0"
    assert lines[3].startswith("time     init ")
    assert lines[4] == "output   (4, 10) float32"
    assert lines[5].startswith("[[")
    assert result.stderr == ""


@pytest.mark.parametrize("case", ["rank3_gelu_bn_dropout", "activation_arguments", "rank4_elu_softplus"])
def test_weights_and_input_files_give_keras_output(tmp_path: Path, case: str) -> None:
    weights, x, expected = keras_files(tmp_path, case)
    spec = json.loads((GOLDEN.parent / "forward_cases.json").read_text())
    spec = next(c["spec"] for c in spec if c["id"] == case)
    result = run(
        "forward", spec, "--weights", str(weights), "--input", str(x), "--output", str(tmp_path / "y.npy")
    )
    assert result.exit_code == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", [3, 4])
def test_each_seed_gives_its_documented_weights_and_input(tmp_path: Path, seed: int) -> None:
    outputs = []
    for name in ("a", "b"):
        result = run(
            "forward", "20x8->16:tanh->bn->4", "--seed", str(seed), "--output", str(tmp_path / f"{name}.npy")
        )
        assert result.exit_code == 0, result.stderr
        outputs.append(np.load(tmp_path / f"{name}.npy"))
    assert outputs[0].tobytes() == outputs[1].tobytes()
    # By hand, with numpy alone: SeedSequence(seed) has two children, the weights' stream and the
    # input's. The kernels are Glorot-uniform float32 draws in layer order, the biases 0; the 4
    # rows of input are float32 standard normals; a fresh BatchNormalization divides by
    # sqrt(1 + epsilon), epsilon = 1e-3 as in Keras.
    weights_seed, input_seed = np.random.SeedSequence(seed).spawn(2)
    weights_stream = np.random.default_rng(weights_seed)
    kernels = []
    for fan_in, fan_out in ((8, 16), (16, 4)):
        limit = np.sqrt(6 / (fan_in + fan_out))
        kernels.append(weights_stream.random((fan_in, fan_out), dtype=np.float32) * 2 * limit - limit)
    x = np.random.default_rng(input_seed).standard_normal((4, 20, 8), dtype=np.float32)
    expected = np.tanh(x.astype(np.float64) @ kernels[0]) / np.sqrt(1 + 1e-3) @ kernels[1]
    assert outputs[0].shape == (4, 20, 4)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-5, atol=1e-6)


def test_chunks_and_memory_mapped_files_change_nothing(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((37, 5, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    base = ["forward", "5x6->9:relu->ln->3:softmax", "--input", str(tmp_path / "x.npy"), "--quiet"]
    assert run(*base, "--output", str(tmp_path / "whole.npy")).exit_code == 0
    assert run(*base, "--output", str(tmp_path / "chunked.npy"), "--chunk", "4").exit_code == 0
    whole, chunked = np.load(tmp_path / "whole.npy"), np.load(tmp_path / "chunked.npy")
    assert whole.shape == (37, 5, 3)
    assert whole.tobytes() == chunked.tobytes()


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = run("forward", "8->4", "--quiet", "--output", str(tmp_path / "y.npy"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert np.load(tmp_path / "y.npy").shape == (4, 4)


def test_json_matches_its_schema() -> None:
    result = run("forward", "6x5->7:relu->bn->3", "--batch", "9", "--stats", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("forward"))
    assert document["output_shape"] == [9, 6, 3]
    assert [layer["name"] for layer in document["layers"]] == ["dense", "batch_normalization", "dense_1"]
    assert 0.3 < document["layers"][0]["zeros_fraction"] < 0.7  # ReLU of symmetric inputs


@pytest.mark.parametrize("case", ["rank3_gelu_bn_dropout", "layernorm_dropout_mix", "large_x_softmax"])
def test_float64_matches_keras(tmp_path: Path, case: str) -> None:
    # Keras's float32 result, computed here in float64: the difference is float32's rounding
    # in Keras (float16 has fixtures of its own, recorded from Keras in float16).
    weights, x, expected = keras_files(tmp_path, case)
    spec = next(
        c["spec"] for c in json.loads((GOLDEN.parent / "forward_cases.json").read_text()) if c["id"] == case
    )
    options = (
        "--weights",
        str(weights),
        "--input",
        str(x),
        "--dtype",
        "float64",
        "-o",
        str(tmp_path / "y.npy"),
    )
    result = run("forward", spec, *options, "--json")
    assert json.loads(result.stdout)["dtype"] == "float64"
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_classic_single_dense_prints_kernel_and_bias_shapes_first() -> None:
    lines = run("forward", "784->512", "--style", "classic").stdout.splitlines()
    assert lines[:3] == ["(784, 512)", "(512,)", "tf.Tensor("]
    assert lines[3].startswith("[[") and " ... " in lines[3]  # summarised as NumPy does
    assert lines[-1].endswith("]], shape=(4, 512), dtype=float32)")


def test_classic_small_tensor_on_one_line() -> None:
    lines = run("forward", "3->bn->2:nobias", "--batch", "1", "--style", "classic").stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tf.Tensor([[") and lines[0].endswith("]], shape=(1, 2), dtype=float32)")


def test_stats_table() -> None:
    lines = run("forward", "64->128:relu->10", "--batch", "50", "--stats").stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Layer (type)"))
    assert lines[header].split() == [
        "Layer",
        "(type)",
        "Output",
        "Shape",
        "mean",
        "std",
        "min",
        "max",
        "zeros",
        "NaN",
        "Inf",
    ]
    dense = lines[header + 1].split()
    assert dense[:4] == ["dense", "(Dense)", "(50,", "128)"]
    assert dense[6] == "0"  # min of a ReLU
    assert dense[-2:] == ["0", "0"]


def test_nan_in_the_output_is_a_warning(tmp_path: Path) -> None:
    weights = {
        "dense/kernel": np.full((3, 2), np.nan, dtype=np.float32),
        "dense/bias": np.zeros(2, np.float32),
    }
    save_weights(tmp_path / "nan.npz", weights)
    result = run("forward", "3->2", "--weights", str(tmp_path / "nan.npz"))
    assert result.exit_code == 0
    # NaN kernels make every output NaN: 4 rows (the default batch) of 2 units.
    assert result.stderr == f"Warning: the output has {4 * 2} NaN and 0 Inf values\n"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--weights", "w.npz", "--init", "zeros"], "from --weights or from --init, not both"),
        (["--input", "x.npy", "--batch", "3"], "from --input or from --batch, not both"),
        (["--style", "classic", "--json"], "the classic style prints the tensor alone"),
        (["--batch", "0"], "--batch"),
        (["--init", "xavier"], "--init"),
    ],
)
def test_contradictions_and_bad_values(args: list[str], complaint: str) -> None:
    result = run("forward", "3->2", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert complaint in flat(result.stderr)


def test_bad_weights_file_lists_every_problem(tmp_path: Path) -> None:
    save_weights(tmp_path / "w.npz", {"dense/kernel": np.zeros((2, 3), np.float32)})
    result = run("forward", "3->2", "--weights", str(tmp_path / "w.npz"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[1:] == [
        "  dense/kernel (layer dense): expected shape (3, 2), received (2, 3)",
        "  missing dense/bias (layer dense): expected shape (2,)",
    ]


def _truncated_npy(folder: Path) -> None:
    np.save(folder / "full.npy", np.zeros((50, 3), np.float32))
    (folder / "x.npy").write_bytes((folder / "full.npy").read_bytes()[:300])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: np.save(d / "x.npy", np.zeros((5, 4), np.float32)),
            "takes inputs of shape (N, 3), received (5, 4)",
        ),
        (
            lambda d: np.save(d / "x.npy", np.zeros((0, 3), np.float32)),
            "x.npy: holds no rows, shape (0, 3)",
        ),
        (
            lambda d: np.save(d / "x.npy", np.array(["a"] * 3).reshape(1, 3)),
            "expected numbers, received dtype <U1",
        ),
        (lambda d: (d / "x.npy").write_text("1,2,3\n"), "x.npy: is not a .npy array of inputs"),
        (
            lambda d: save_weights(d / "x.npy", {"x": np.zeros((2, 3))}),
            "x.npy: an .npz archive, where a .npy array",
        ),
        (
            _truncated_npy,
            "x.npy: truncated: its header promises 600 bytes of data (shape (50, 3), float32), "
            "the file holds 172",
        ),
        (lambda d: (d / "x.npy").mkdir(), "x.npy: is a directory"),
        (lambda d: None, "x.npy: no such file"),
    ],
)
def test_bad_input_files(tmp_path: Path, make: Any, message: str) -> None:
    make(tmp_path)
    result = run("forward", "3->2", "--input", str(tmp_path / "x.npy"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_device_files_are_not_inputs() -> None:
    result = run("forward", "3->2", "--input", "/dev/null")
    assert result.exit_code == 2
    assert "/dev/null: is not a regular file" in result.stderr


def test_output_may_not_overwrite_its_input(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "x.npy", x)
    result = run("forward", "3->3", "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "x.npy"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot write {tmp_path / 'x.npy'}: it is the input {tmp_path / 'x.npy'}, "
        "which the output would destroy\n"
    )
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), x)


def test_failed_output_leaves_no_file(tmp_path: Path) -> None:
    np.save(tmp_path / "y.npy", np.ones(3))
    result = run("forward", "100000->100000*1000->10", "--output", str(tmp_path / "y.npy"))
    assert result.exit_code == 2
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.ones(3))  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["y.npy"]


def test_refuses_what_memory_cannot_hold() -> None:
    result = run("forward", "100000->100000*1000->10")
    assert result.exit_code == 2
    assert result.stdout == ""
    # float32 weights: 4 bytes for each of 1000 x (100,000 x 100,000 + 100,000) + 100,000 x 10 + 10;
    # they dwarf the rest. The output: 4 rows of 10 float32.
    weights = 4 * (1000 * (100_000 * 100_000 + 100_000) + 100_000 * 10 + 10) / 2**40
    assert result.stderr.startswith(
        "Error: not enough memory for a forward pass of 4 rows: "
        f"it needs {weights:.2f} TiB (weights {weights:.2f} TiB, "
    )
    assert f", output {4 * 10 * 4} B, " in result.stderr


def test_refuses_an_output_too_big_for_memory() -> None:
    result = run("forward", "4->4", "--batch", str(10**14))
    assert result.exit_code == 2
    assert f"output {10**14 * 4 * 4 / 2**50:.2f} PiB" in result.stderr  # rows x 4 float32 outputs


def test_no_numpy_warning_text_reaches_stderr(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.full((2, 3), 3e38, dtype=np.float32))
    result = run("forward", "3->3:softmax->ln->3:gelu", "--input", str(tmp_path / "x.npy"))
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: the output has ")
    assert "RuntimeWarning" not in result.stderr


def test_progress_shows_from_the_start_with_rate_elapsed_and_eta() -> None:
    import io

    from rich.console import Console

    from mlpcalc.cli.progress import Progress

    screen = io.StringIO()
    progress = Progress(enabled=True, console=Console(file=screen, force_terminal=True, width=100))
    progress._bar.refresh()  # what the timer draws while the weights are made: the clock runs
    assert "weights" in screen.getvalue() and "0:00:00" in screen.getvalue()
    progress(0, 1024)  # the weights are ready
    time.sleep(0.05)
    progress(512, 1024)
    progress._bar.refresh()
    progress.close()
    drawn = screen.getvalue()
    assert "512/1,024 rows" in drawn
    rate = re.search(r"([\d,]+) rows/s", drawn)
    assert rate is not None and int(rate.group(1).replace(",", "")) > 0
    assert re.search(r"ETA \d:\d\d:\d\d", drawn)
    quiet = Progress(enabled=False, console=Console(file=io.StringIO(), force_terminal=True))
    quiet(1, 2)
    quiet.close()


def test_init_writes_the_variables(tmp_path: Path) -> None:
    result = run(
        "init", "4->bn->3:relu->2", "-o", str(tmp_path / "w.npz"), "--seed", "5", "--init", "he_normal"
    )
    assert result.exit_code == 0, result.stderr
    # BN: 4 x 4; dense: 4 x 3 + 3; dense_1: 3 x 2 + 2; float32 is 4 bytes each.
    params = 4 * 4 + 4 * 3 + 3 + 3 * 2 + 2
    assert result.stdout == (
        f"wrote {tmp_path / 'w.npz'}: 8 variables, {params} parameters ({4 * params} B float32), "
        "he_normal, seed 5\n"
    )
    with np.load(tmp_path / "w.npz") as archive:
        assert {key: archive[key].shape for key in archive.files} == {
            "batch_normalization/gamma": (4,), "batch_normalization/beta": (4,),
            "batch_normalization/moving_mean": (4,), "batch_normalization/moving_variance": (4,),
            "dense/kernel": (4, 3), "dense/bias": (3,), "dense_1/kernel": (3, 2),
        } | {"dense_1/bias": (2,)}  # fmt: skip


def test_init_then_forward_is_forward_with_the_same_seed(tmp_path: Path) -> None:
    assert run("init", "8->6:elu->2", "-o", str(tmp_path / "w.npz"), "--seed", "9").exit_code == 0
    loaded = run(
        "forward",
        "8->6:elu->2",
        "--weights",
        str(tmp_path / "w.npz"),
        "--seed",
        "9",
        "--output",
        str(tmp_path / "a.npy"),
    )
    drawn = run("forward", "8->6:elu->2", "--seed", "9", "--output", str(tmp_path / "b.npy"))
    assert (loaded.exit_code, drawn.exit_code) == (0, 0), loaded.stderr + drawn.stderr
    assert np.load(tmp_path / "a.npy").tobytes() == np.load(tmp_path / "b.npy").tobytes()


def test_init_json_and_errors(tmp_path: Path) -> None:
    result = run("init", "4->2", "-o", str(tmp_path / "w.npz"), "--json")
    jsonschema.validate(json.loads(result.stdout), schema("init"))
    missing_dir = run("init", "4->2", "-o", str(tmp_path / "no" / "w.npz"))
    assert missing_dir.exit_code == 2
    assert (
        missing_dir.stderr
        == f"Error: cannot write {tmp_path / 'no' / 'w.npz'}: no such folder {tmp_path / 'no'}\n"
    )
    assert run("init", "4->2").exit_code == 2  # -o is required
    device = run("init", "3->2", "-o", "/dev/null")
    assert (device.exit_code, device.stderr) == (
        2,
        "Error: cannot write /dev/null: it is not a regular file\n",
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--quiet", "--json"], "it prints nothing"),
        (["--quiet", "--stats"], "it prints nothing"),
        (["--quiet", "--style", "classic"], "it prints nothing"),
    ],
)
def test_quiet_refuses_what_it_would_hide(args: list[str], complaint: str) -> None:
    result = run("forward", "3->2", *args)
    assert result.exit_code == 2
    assert complaint in flat(result.stderr)


def test_seed_is_refused_when_nothing_is_drawn(tmp_path: Path) -> None:
    weights, x, _ = keras_files(tmp_path, "seed_3-2-2-2_relu")
    files = ["--weights", str(weights), "--input", str(x)]
    assert run("forward", "3->2->2->2 relu", *files, "--seed", "1").exit_code == 2
    document = json.loads(run("forward", "3->2->2->2 relu", *files, "--json").stdout)
    assert document["seed"] is None


def test_name_is_shown() -> None:
    result = run("forward", "3->2", "--name", "tiny")
    assert result.exit_code == 0
    assert result.stdout.startswith(f'model    "tiny" 3->2 ({3 * 2 + 2} parameters)')
