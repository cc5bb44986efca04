"""mlpcalc's float16 forward pass against Keras's own float16 models (golden/float16/*.npz).

Each fixture was recorded by tests/golden/regenerate.py --float16: a Keras 3 model whose every
layer has dtype="float16" (float16 variables and float16 computation, except where Keras itself
computes in float32, as in its normalisations), Keras's randomized float16 weights, a float16
input x, and Keras's float16 output y = model(x, training=False).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app
from mlpcalc.engine.forward import forward, plan
from mlpcalc.engine.weights import save_weights

GOLDEN = Path(__file__).parent / "golden"
CASES = {case["id"]: case for case in json.loads((GOLDEN / "float16_cases.json").read_text())}
FIXTURES = sorted((GOLDEN / "float16").glob("*.npz"))
IDS = [path.stem for path in FIXTURES]

# The tolerance, in float16 steps. float16 keeps 11 significant bits: one step (ulp) is 2**-10
# of the value's power of two, and one rounding is off by at most half a step. Keras rounds to
# float16 after every operation of every layer (its matmuls, bias adds and activations run in
# float16; the normalisations in float32), mlpcalc computes in float32 and rounds once at the
# end, so the two differ by the roundings Keras makes along the way: a handful of half-steps,
# for models of at most a dozen layers whose outputs are of order 1 (activations, normalised
# values) or, for the single-activation cases, at most a few hundred. Four steps covers that
# (the recorded worst is one step) and is still four times tighter than one wrong rounding per
# layer would allow; a formula that is wrong, or computed in float16 where it overflows (a
# layer normalisation of inputs of a few hundred squares them past float16's 65504), is off by
# far more.
RTOL = 4 * 2.0**-10  # four steps of a value's own magnitude
ATOL = 4 * 2.0**-11  # four steps of a value in [0.5, 1): the scale of the values inside the models


def fixture(path: Path) -> tuple[str, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    x, y = arrays.pop("x"), arrays.pop("y")
    return CASES[path.stem]["spec"], arrays, x, y


def test_the_fixtures_are_keras_float16() -> None:
    assert len(FIXTURES) >= 15
    assert set(IDS) == set(CASES)
    for path in FIXTURES:
        _, weights, x, y = fixture(path)
        assert x.dtype == y.dtype == np.float16
        assert all(array.dtype == np.float16 for array in weights.values())
        assert np.isfinite(y).all()


@pytest.mark.parametrize("path", FIXTURES, ids=IDS)
def test_float16_forward_matches_keras(path: Path) -> None:
    spec, weights, x, expected = fixture(path)
    model = parse(spec, batch=CASES[path.stem].get("batch"))
    y = forward(plan(model, len(x), np.float16), weights, x)
    assert y.dtype == np.float16
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.astype(np.float64), expected.astype(np.float64), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["rank4_bn_ln", "ln_large_x", "large_x_softmax", "fixed_batch"])
def test_float16_forward_in_chunks_of_one_row_matches_keras(name: str) -> None:
    spec, weights, x, expected = fixture(GOLDEN / "float16" / f"{name}.npz")
    model = parse(spec, batch=CASES[name].get("batch"))
    y = forward(plan(model, len(x), np.float16, chunk=1), weights, x)
    np.testing.assert_allclose(y.astype(np.float64), expected.astype(np.float64), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["rank3_gelu_bn_dropout", "bn_ln_large_x", "layernorm_dropout_mix"])
def test_cli_float16_matches_keras(name: str, tmp_path: Path) -> None:
    spec, weights, x, expected = fixture(GOLDEN / "float16" / f"{name}.npz")
    save_weights(tmp_path / "w.npz", weights)
    np.save(tmp_path / "x.npy", x)
    files = ["--weights", str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy")]
    options = ["--dtype", "float16", "--output", str(tmp_path / "y.npy"), "--json"]
    result = CliRunner().invoke(app, ["forward", spec, *files, *options])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["dtype"] == "float16"
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float64), expected.astype(np.float64), rtol=RTOL, atol=ATOL)
