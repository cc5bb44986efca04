"""`mlpcalc export`: the Keras and PyTorch code it writes, the files, and the command itself.

The code is held to what mlpcalc computes: each script is run (in this process, or as a real
program) with the weights of `mlpcalc init` (their constant starts randomized, so that every
variable lands where it must), and its output on an input compared with `mlpcalc forward`'s
on the same input, for every layer kind and activation, on inputs of rank 2 and 3. torch and
Keras are optional: those tests are skipped, with the reason shown (`pytest -ra`), without them.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_cli import run
from test_fuzz import valid_specs

from mlpcalc.core.activations import KINDS, Activation
from mlpcalc.core.errors import ModelError
from mlpcalc.core.layers import (
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LayerNormalization,
)
from mlpcalc.core.model import Model, parse
from mlpcalc.core.pytorch_form import SEQUENTIAL_ATTRIBUTES, module_names
from mlpcalc.core.spec import Spec
from mlpcalc.interop.keras_code import keras_code
from mlpcalc.interop.pytorch_code import pytorch_code
from mlpcalc.interop.script import MARK

GENERATORS = {"keras": keras_code, "pytorch": pytorch_code}
# Keras 3.15's torch backend turns tensors into arrays the way numpy 2 deprecates: its noise, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
# float32 against float32: the same formulas in another order (torch's matmul, Keras's moments),
# a few units in the last place (the largest difference seen: 3.8e-6 for PyTorch, 7.2e-7 for
# Keras, over 334 and 154 models).
RTOL = ATOL = 1e-5

# Every activation, with the arguments that change its formula, after a Dense and as a layer;
# every layer kind, BatchNormalization on rank 2 and on rank 3 (before the flatten), nobias.
ACTIVATIONS = [*KINDS, "leaky_relu(0.1)", "leaky_relu(-0.5)", "elu(0.5)", "gelu(tanh)", "gelu(erf)"]
EVERY_KIND = "{input}->5:{act}->bn->ln->{act}->dropout(0.25)->flatten->bn->4:nobias->ln->3*2:{act}"
CASES = [EVERY_KIND.format(input=shape, act=act) for act in ACTIVATIONS for shape in ("6", "3x4")]
# Epsilons other than Keras's: PyTorch's 1e-5, and others, on rank 2 and rank 3.
CASES += ["6->5:relu->bn(1e-05)->ln(1e-06)->3", "3x4->5:tanh->bn(0.5)->ln(1e-05)->flatten->bn(1e-05)->2"]


# ---------------------------------------------------------------- helpers


def weights_file(spec: str, path: Path, seed: int = 0) -> Path:
    """`mlpcalc init`'s weights, with every bias, gamma, beta and moving statistic randomized."""
    result = run("init", spec, "-o", str(path), "--seed", str(seed))
    assert result.exit_code == 0, result.stderr
    rng = np.random.default_rng(seed)
    with np.load(path) as archive:
        arrays = dict(archive)
    for key, array in arrays.items():
        variable = key.rsplit("/", 1)[1]
        if variable == "gamma":
            arrays[key] = rng.uniform(0.5, 1.5, array.shape).astype(np.float32)
        elif variable == "moving_variance":
            arrays[key] = rng.uniform(0.5, 2.0, array.shape).astype(np.float32)
        elif variable != "kernel":
            arrays[key] = rng.normal(0, 0.5, array.shape).astype(np.float32)
    np.savez(path, **arrays)
    return path


def forward_output(spec: str, weights: Path, folder: Path, rows: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """An input of `rows` samples, and what `mlpcalc forward` makes of it."""
    x = np.random.default_rng(1).standard_normal((rows, *parse(spec).spec.input_shape)).astype(np.float32)
    np.save(folder / "x.npy", x)
    args = ["forward", spec, "--weights", str(weights), "--input", str(folder / "x.npy")]
    result = run(*args, "-o", str(folder / "y.npy"), "-q")
    assert result.exit_code == 0, result.stderr
    return x, np.load(folder / "y.npy")


def executed(code: str) -> Any:
    """The `model` a script defines, run in this process (not as __main__)."""
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "<exported>", "exec"), namespace)
    return namespace["model"]


def assert_close(actual: np.ndarray, expected: np.ndarray, spec: str) -> None:
    assert actual.shape == expected.shape, spec
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=spec)


def entries(code: str) -> list[tuple[str, str]]:
    """The PyTorch script's modules as written: (name, constructor call), from its syntax tree."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "OrderedDict":
            pairs = node.args[0]
            assert isinstance(pairs, ast.List)
            found = []
            for pair in pairs.elts:
                assert isinstance(pair, ast.Tuple)
                name, call = pair.elts
                found.append((ast.literal_eval(name), ast.unparse(call)))
            return found
    raise AssertionError("no OrderedDict([...]) in the script")


# ---------------------------------------------------------------- the frameworks, when installed


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch", reason="torch is not installed: the PyTorch code is not run")


@pytest.fixture(scope="module")
def keras(torch: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Keras 3 on the torch backend (its config in a folder of its own, not ~/.keras)."""
    saved = {key: os.environ.get(key) for key in ("KERAS_BACKEND", "KERAS_HOME")}
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "torch"
        os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras_home"))
    try:
        module = pytest.importorskip("keras", reason="keras is not installed: the Keras code is not run")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if module.backend.backend() != "torch":
        pytest.skip(f"keras was imported already with the {module.backend.backend()} backend")
    yield module


# ---------------------------------------------------------------- the code, against mlpcalc forward


@pytest.mark.parametrize("spec", CASES)
def test_pytorch_code_computes_what_forward_does(spec: str, tmp_path: Path, torch: Any) -> None:
    weights = weights_file(spec, tmp_path / "w.npz")
    x, expected = forward_output(spec, weights, tmp_path)
    model = executed(pytorch_code(parse(spec), str(weights)))
    assert not model.training  # model.eval() after the weights are loaded
    with torch.no_grad():
        actual = model(torch.from_numpy(x)).numpy()
    assert_close(actual, expected, spec)


@pytest.mark.parametrize("spec", CASES)
def test_keras_code_computes_what_forward_does(spec: str, tmp_path: Path, keras: Any) -> None:
    weights = weights_file(spec, tmp_path / "w.npz")
    x, expected = forward_output(spec, weights, tmp_path)
    model = executed(keras_code(parse(spec), str(weights)))
    actual = keras.ops.convert_to_numpy(model(x, training=False))
    assert_close(actual, expected, spec)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(built=valid_specs())
def test_pytorch_code_of_any_spec_computes_what_forward_does(built: Any, tmp_path: Path, torch: Any) -> None:
    spec = str(parse(built.text).spec)
    weights = weights_file(spec, tmp_path / "w.npz")
    x, expected = forward_output(spec, weights, tmp_path)
    with torch.no_grad():
        actual = executed(pytorch_code(parse(spec), str(weights)))(torch.from_numpy(x)).numpy()
    assert_close(actual, expected, spec)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(built=valid_specs())
def test_keras_code_of_any_spec_computes_what_forward_does(built: Any, tmp_path: Path, keras: Any) -> None:
    spec = str(parse(built.text).spec)
    weights = weights_file(spec, tmp_path / "w.npz")
    x, expected = forward_output(spec, weights, tmp_path)
    model = executed(keras_code(parse(spec), str(weights)))
    assert_close(keras.ops.convert_to_numpy(model(x, training=False)), expected, spec)


def test_the_keras_code_builds_what_mlpcalc_describes(keras: Any) -> None:
    # Names, classes, shapes, counts and variables, as `mlpcalc summary` and `variables` say.
    described = parse(EVERY_KIND.format(input="3x4", act="leaky_relu(0.1)"), name="my model")
    model = executed(keras_code(described, None))
    assert model.name == "my model"
    assert [layer.name for layer in model.layers] == [layer.name for layer in described.layers]
    assert [type(layer).__name__ for layer in model.layers] == [
        layer.keras_class for layer in described.layers
    ]
    assert [tuple(layer.output.shape) for layer in model.layers] == [
        layer.output_shape for layer in described.layers
    ]
    assert model.count_params() == described.total_params
    assert [variable.path for variable in model.weights] == [
        described.keras_path(v) for v in described.variables
    ]
    norm = model.get_layer("batch_normalization")
    assert (norm.momentum, norm.epsilon, norm.axis) == (0.99, 0.001, -1)


def test_a_keras_model_with_arguments_saves_and_loads(keras: Any, tmp_path: Path) -> None:
    # The activations with other arguments are registered functions: the .keras file loads back.
    spec = "3->4:leaky_relu(-0.5)->elu(0.5)->gelu(tanh)->2:leaky_relu relu"
    model = executed(keras_code(parse(spec), str(weights_file(spec, tmp_path / "w.npz"))))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    activation = loaded.get_config()["layers"][1]["config"]["activation"]
    assert activation["config"] == "mlpcalc>leaky_relu(-0.5)"
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    before, after = (keras.ops.convert_to_numpy(m(x, training=False)) for m in (model, loaded))
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    "spec",
    [EVERY_KIND.format(input="3x4", act="elu"), "3x4->5:leaky_relu(-0.5)->bn(1e-05)->ln(0.5)->gelu(tanh)->2"],
)
def test_a_keras_model_saved_reads_back_as_the_same_model(spec: str, keras: Any, tmp_path: Path) -> None:
    # Keras builds the code, saves it; mlpcalc reads the file: the spec and the names it started
    # from, the activations the code registers ("mlpcalc>leaky_relu(-0.5)") and the epsilons too.
    from mlpcalc.interop.keras_config import read_keras_file

    described = parse(spec, name="encoder")
    executed(keras_code(described, None)).save(tmp_path / "m.keras")
    read = read_keras_file(tmp_path / "m.keras").model
    assert (str(read.spec), read.name) == (str(described.spec), "encoder")
    assert [layer.name for layer in read.layers] == [layer.name for layer in described.layers]


@pytest.mark.parametrize("target", ["pytorch", "keras"])
def test_a_script_runs_as_a_program(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # the script names its weights as they were given: w.npz, from here
    if target == "keras":
        pytest.importorskip("keras", reason="keras is not installed: the Keras code is not run")
    spec = "2x3->4:gelu->bn->flatten->5:softmax"
    weights = weights_file(spec, tmp_path / "w.npz")
    result = run("export", spec, "--to", target, "--weights", "w.npz", "-o", "model.py")
    assert result.exit_code == 0, result.stderr
    env = {**os.environ, "KERAS_BACKEND": "torch", "KERAS_HOME": str(tmp_path)}
    ran = subprocess.run(
        [sys.executable, "model.py"], cwd=weights.parent, capture_output=True, text=True, env=env, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "(2, 5)\n"


# ---------------------------------------------------------------- the PyTorch contract

EVERY_KIND_MODULES = [
    ("dense", "nn.Linear(4, 5, bias=True)"),
    ("dense_gelu", "nn.GELU(approximate='tanh')"),
    ("batch_normalization", "BatchNormLastAxis(5, eps=0.001, momentum=0.01)"),
    ("layer_normalization", "nn.LayerNorm(5, eps=0.001)"),
    ("activation", "nn.GELU(approximate='tanh')"),
    ("dropout", "nn.Dropout(0.25)"),
    ("flatten", "nn.Flatten()"),
    ("batch_normalization_1", "nn.BatchNorm1d(15, eps=0.001, momentum=0.01)"),
    ("dense_1", "nn.Linear(15, 4, bias=False)"),
    ("layer_normalization_1", "nn.LayerNorm(4, eps=0.001)"),
    ("dense_2", "nn.Linear(4, 3, bias=True)"),
    ("dense_2_gelu", "nn.GELU(approximate='tanh')"),
    ("dense_3", "nn.Linear(3, 3, bias=True)"),
    ("dense_3_gelu", "nn.GELU(approximate='tanh')"),
]


def test_the_pytorch_modules_are_the_contract() -> None:
    code = pytorch_code(parse(EVERY_KIND.format(input="3x4", act="gelu(tanh)")), None)
    assert entries(code) == EVERY_KIND_MODULES
    assert code.startswith(MARK)
    assert "class BatchNormLastAxis(nn.BatchNorm1d):" in code


@pytest.mark.parametrize(
    ("activation", "module"),
    [
        ("relu", "nn.ReLU()"),
        ("sigmoid", "nn.Sigmoid()"),
        ("tanh", "nn.Tanh()"),
        ("softmax", "nn.Softmax(dim=-1)"),
        ("gelu", "nn.GELU()"),
        ("gelu(tanh)", "nn.GELU(approximate='tanh')"),
        ("elu", "nn.ELU(alpha=1.0)"),
        ("elu(0.5)", "nn.ELU(alpha=0.5)"),
        ("selu", "nn.SELU()"),
        ("softplus", "nn.Softplus()"),
        ("swish", "nn.SiLU()"),
        ("silu", "nn.SiLU()"),
        ("leaky_relu", "nn.LeakyReLU(negative_slope=0.2)"),
        ("leaky_relu(1e-05)", "nn.LeakyReLU(negative_slope=1e-05)"),
    ],
)
def test_each_activation_is_its_module(activation: str, module: str) -> None:
    assert entries(pytorch_code(parse(f"3->4:{activation}->{activation}"), None)) == [
        ("dense", "nn.Linear(3, 4, bias=True)"),
        (f"dense_{activation.split('(')[0]}", module),
        ("activation", module),
    ]


def test_a_fixed_batch_is_the_batch_keras_runs(keras: Any) -> None:
    # A model file may fix the batch: Keras's Input takes it, and the example runs that many rows.
    code = keras_code(parse("3->2", batch=5), None)
    assert "keras.Input(shape=(3,), batch_size=5)," in code
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, "<exported>", "exec"), namespace)
    assert namespace["x"].shape == (5, 3)


def test_a_linear_activation_is_no_module_after_a_dense_and_identity_as_a_layer() -> None:
    assert entries(pytorch_code(parse("3->4->linear"), None)) == [
        ("dense", "nn.Linear(3, 4, bias=True)"),
        ("activation", "nn.Identity()"),
    ]


def test_the_modules_are_what_torch_builds(torch: Any) -> None:
    model = executed(pytorch_code(parse(EVERY_KIND.format(input="3x4", act="gelu(tanh)")), None))
    classes = [(name, type(module).__name__) for name, module in model.named_children()]
    assert classes == [(name, call.split("(")[0].removeprefix("nn.")) for name, call in EVERY_KIND_MODULES]
    assert isinstance(model.batch_normalization, torch.nn.BatchNorm1d)
    assert model.dense_1.bias is None


def test_the_attribute_list_is_torchs(torch: Any) -> None:
    # A module may not be named as an attribute of nn.Sequential: the list must stay torch's.
    public = {name for name in dir(torch.nn.Sequential()) if not name.startswith("_")}
    assert public <= SEQUENTIAL_ATTRIBUTES


NAMES = ("forward", "a-b", "a_b", "_private", "dense_relu", "é", "x.y", "training", "dense")


def test_names_from_a_model_file_become_module_names() -> None:
    # A model file names its layers as it likes: each name made a valid, unique module name.
    layers: tuple[Layer, ...] = (
        Dense(3, Activation("relu")), Dense(3), Flatten(), Dense(3), Dropout(0.5), Dense(3), Dense(3),
        Dense(3, Activation("relu")), LayerNormalization(),
    )  # fmt: skip
    model = Model(Spec((2,), layers), layer_names=NAMES)
    assert module_names(model) == [
        ("layer_forward", "layer_forward_relu"), ("a_b",), ("a_b_1",), ("layer_private",),
        ("dense_relu",), ("layer_",), ("x_y",), ("layer_training", "layer_training_relu"), ("dense",),
    ]  # fmt: skip


def test_names_from_a_model_file_load_in_torch(torch: Any, tmp_path: Path) -> None:
    layers: tuple[Layer, ...] = (
        Dense(3, Activation("relu")), BatchNormalization(), Flatten(), Dense(3), Dropout(0.5), Dense(3),
        ActivationLayer(Activation("tanh")), Dense(3, Activation("relu")), LayerNormalization(),
    )  # fmt: skip
    model = Model(Spec((2,), layers), layer_names=NAMES)
    arrays = {v.path: np.full(v.shape, 0.5, dtype=np.float32) for v in model.variables}
    np.savez(tmp_path / "w.npz", **arrays)  # type: ignore[arg-type]
    loaded = executed(pytorch_code(model, str(tmp_path / "w.npz")))
    assert [name for name, _ in loaded.named_children()] == [
        n for names in module_names(model) for n in names
    ]


# ---------------------------------------------------------------- the code, as text


@settings(max_examples=200, deadline=None)
@given(built=valid_specs(), target=st.sampled_from(sorted(GENERATORS)), weights=st.booleans())
def test_the_code_of_any_spec_compiles(built: Any, target: str, weights: bool) -> None:
    code = GENERATORS[target](parse(built.text), "w.npz" if weights else None)
    compile(code, "<exported>", "exec")
    assert code.isascii()
    assert code.startswith(MARK)


names = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="/"), min_size=1)


@settings(max_examples=100, deadline=None)
@given(name=names, weights=st.text(min_size=1), target=st.sampled_from(sorted(GENERATORS)))
def test_names_and_paths_are_literals_of_themselves(name: str, weights: str, target: str) -> None:
    # Any text a model file may give as a name, any path: written in ASCII, read back as given.
    try:
        model = Model(Spec((2,), (Dense(3), Dense(3))), name=name, layer_names=(name, name + "x"))
    except ModelError:  # a name the model refuses (a workflow command, say)
        assume(False)
    code = GENERATORS[target](model, weights)
    assert code.isascii()
    literals = {node.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Constant)}
    assert weights in literals
    if target == "keras":  # PyTorch's module names are the names made identifiers
        assert {name, name + "x"} <= literals


@settings(max_examples=100, deadline=None)
@given(
    rate=st.floats(0, 1, exclude_max=True),
    slope=st.floats(-5, 5, allow_nan=False, allow_infinity=False),
    alpha=st.floats(-5, 5, allow_nan=False, allow_infinity=False),
)
def test_floats_read_back_exactly(rate: float, slope: float, alpha: float) -> None:
    layers: tuple[Layer, ...] = (
        Dense(3, Activation("leaky_relu", slope)), Dropout(rate), ActivationLayer(Activation("elu", alpha)),
    )  # fmt: skip
    model = Model(Spec((2,), layers))
    for target, generate in GENERATORS.items():
        numbers: set[float] = set()
        for node in ast.walk(ast.parse(generate(model, None))):
            sign, constant = (-1, node.operand) if isinstance(node, ast.UnaryOp) else (1, node)
            if isinstance(constant, ast.Constant) and isinstance(constant.value, float):
                numbers.add(sign * constant.value)  # -0.5 is the constant 0.5, negated
        # Keras's code names an activation with its default argument (leaky_relu: 0.2, elu: 1.0).
        defaults = {0.2: slope, 1.0: alpha} if target == "keras" else {}
        wanted = {rate, slope, alpha} - {value for default, value in defaults.items() if value == default}
        assert wanted <= numbers, target


# ---------------------------------------------------------------- the command


def test_code_goes_to_stdout() -> None:
    result = run("export", "784->512->10 relu", "--to", "pytorch")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == pytorch_code(parse("784->512->10 relu"), None)
    assert result.stderr == ""


def test_the_model_name_and_the_notes() -> None:
    result = run("export", "3x4->5", "--to", "keras", "--name", "encoder")
    assert result.exit_code == 0, result.stderr
    assert 'name="encoder",' in result.stdout
    assert result.stderr.startswith("Note: dense acts on the last axis")


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_code_from_a_file_with_weights_says_how_to_carry_them(target: str, tmp_path: Path) -> None:
    archive = tmp_path / "my model.keras"
    assert run("export", "3->2", "--to", "keras-archive", "-o", str(archive)).exit_code == 0
    result = run("export", str(archive), "--to", target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(MARK)
    assert "the framework's initial weights" in result.stderr
    assert f"mlpcalc export '{archive}' --to npz -o weights.npz" in result.stderr
    weights = tmp_path / "w.npz"
    assert run("export", str(archive), "--to", "npz", "-o", str(weights)).exit_code == 0
    result = run("export", str(archive), "--to", target, "--weights", str(weights))
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_code_with_weights_checks_them_first(target: str, tmp_path: Path) -> None:
    assert run("init", "3->2", "-o", str(tmp_path / "w.npz")).exit_code == 0
    result = run("export", "3->4", "--to", target, "--weights", str(tmp_path / "w.npz"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "does not fit 3->4" in result.stderr


def test_output_is_written_and_said(tmp_path: Path) -> None:
    out = tmp_path / "model.py"
    result = run("export", "784->512->10 relu", "--to", "keras", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"wrote {out}: Keras code, 2 layers, 407,050 parameters, the framework's initial weights\n"
    )
    assert out.read_text() == keras_code(parse("784->512->10 relu"), None)
    assert run("export", "3->2", "--to", "keras", "-o", str(out), "-q").stdout == ""
    assert out.read_text() == keras_code(parse("3->2"), None)  # an earlier export is replaced


@pytest.mark.parametrize(
    ("target", "existing", "kind"),
    [
        ("keras", "notes.txt", "a script mlpcalc export wrote"),
        ("pytorch", "w.npz", "a script mlpcalc export wrote"),
        ("onnx", "notes.txt", "an ONNX model"),
        ("npz", "notes.txt", "an .npz archive"),
        ("keras-archive", "notes.txt", "a zip archive (.keras)"),
    ],
)
def test_an_existing_file_of_another_kind_is_kept_unless_forced(
    target: str, existing: str, kind: str, tmp_path: Path
) -> None:
    if target == "onnx":
        pytest.importorskip("onnx", reason="onnx is not installed: --to onnx is not run")
    if target == "keras-archive":
        pytest.importorskip("h5py", reason="h5py is not installed: --to keras-archive is not run")
    path = tmp_path / existing
    if existing.endswith(".npz"):
        np.savez(path, a=np.ones(3))
    else:
        path.write_text("my notes\n")
    before = path.read_bytes()
    refused = run("export", "3->2", "--to", target, "-o", str(path))
    assert refused.exit_code == 2
    assert (
        refused.stderr == f"Error: {path} exists and is not {kind}: it is kept; give --force to replace it\n"
    )
    assert path.read_bytes() == before
    forced = run("export", "3->2", "--to", target, "-o", str(path), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert path.read_bytes() != before


def test_an_empty_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "m.py").touch()
    assert run("export", "3->2", "--to", "pytorch", "-o", str(tmp_path / "m.py")).exit_code == 0
    assert (tmp_path / "m.py").read_text().startswith(MARK)


@pytest.mark.parametrize("target", ["keras", "npz"])
def test_the_output_may_not_be_the_weights(target: str, tmp_path: Path) -> None:
    weights = tmp_path / "w.npz"
    assert run("init", "3->2", "-o", str(weights)).exit_code == 0
    before = weights.read_bytes()
    link = tmp_path / "link.npz"
    link.symlink_to(weights)
    for output in (weights, link):
        result = run(
            "export", "3->2", "--to", target, "--weights", str(weights), "-o", str(output), "--force"
        )
        assert result.exit_code == 2
        assert "which the output would destroy" in result.stderr
    assert weights.read_bytes() == before


def test_the_output_may_not_be_the_model_file(tmp_path: Path) -> None:
    from mlpcalc.interop.keras_config import keras_config

    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps(keras_config(parse("3->4:relu->2"))))
    before = model_file.read_bytes()
    result = run("export", str(model_file), "--to", "keras", "-o", str(model_file), "--force")
    assert result.exit_code == 2
    assert "which the output would destroy" in result.stderr
    assert model_file.read_bytes() == before


def test_output_through_a_link_writes_its_target_and_a_fifo_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.py"
    link.symlink_to(tmp_path / "real.py")
    assert run("export", "3->2", "--to", "pytorch", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and (tmp_path / "real.py").read_text().startswith(MARK)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = run("export", "3->2", "--to", "pytorch", "-o", str(fifo))
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr


def test_a_failed_export_leaves_nothing(tmp_path: Path) -> None:
    result = run("export", "3->2", "--to", "npz", "--weights", "missing.npz", "-o", str(tmp_path / "w.npz"))
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_npz_holds_the_weights_init_draws(tmp_path: Path) -> None:
    args = ["3x2->4:relu->bn->2", "--seed", "7", "--init", "he_normal"]
    assert run("init", *args, "-o", str(tmp_path / "init.npz")).exit_code == 0
    result = run("export", *args, "--to", "npz", "-o", str(tmp_path / "export.npz"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(": weights (.npz), 3 layers, 38 parameters, drawn with he_normal, seed 7\n")
    with np.load(tmp_path / "init.npz") as drawn, np.load(tmp_path / "export.npz") as exported:
        assert list(drawn) == list(exported)
        for key in drawn:
            np.testing.assert_array_equal(drawn[key], exported[key])


def test_onnx_is_written_with_its_opset(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="onnx is not installed: --to onnx is not run")
    result = run("export", "3->4:relu->2", "--to", "onnx", "-o", str(tmp_path / "m.onnx"), "--opset", "18")
    assert result.exit_code == 0, result.stderr
    written = onnx.load(tmp_path / "m.onnx")
    assert [opset.version for opset in written.opset_import if opset.domain in ("", "ai.onnx")] == [18]


def test_a_keras_archive_is_a_zip(tmp_path: Path) -> None:
    pytest.importorskip("h5py", reason="h5py is not installed: --to keras-archive is not run")
    result = run("export", "3->4:relu->2", "--to", "keras-archive", "-o", str(tmp_path / "m.keras"))
    assert result.exit_code == 0, result.stderr
    assert zipfile.is_zipfile(tmp_path / "m.keras")


@pytest.mark.parametrize(
    ("target", "library", "extra"), [("onnx", "onnx", "onnx"), ("keras-archive", "h5py", "keras")]
)
def test_a_missing_package_names_its_extra(
    target: str, library: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == library else real(name, *a)
    )
    result = run("export", "3->2", "--to", target, "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    needs = f"--to {target} needs the {library} package: pip install 'mlpcalc[{extra}]'"
    assert result.stderr == f"Error: {needs}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: Missing option '--to': one of keras, pytorch, onnx, npz, keras-archive"),
        (["--to", "tf"], "Error: Invalid value for '--to': 'tf' is not one of"),
        (["--to", "onnx"], "Error: Missing option '--output' / '-o': --to onnx writes a file, never"),
        (["--to", "npz"], "Error: Missing option '--output' / '-o': --to npz writes a file"),
        (["--to", "keras", "--seed", "1"], "Error: Invalid value for --seed: --to keras writes code"),
        (["--to", "pytorch", "--init", "zeros"], "Error: Invalid value for --init: --to pytorch writes code"),
        (
            ["--to", "npz", "-o", "w.npz", "--weights", "w.npz", "--seed", "0"],
            "Error: Invalid value for --seed: the weights come from",
        ),
        (
            ["--to", "keras", "--opset", "18"],
            "Error: Invalid value for --opset: it sets the opset of --to onnx, not",
        ),
        (
            ["--to", "onnx", "-o", "m.onnx", "--opset", "16"],
            "Error: Invalid value for '--opset': 16 is not in the range",
        ),
        (["--to", "keras", "--force"], "Error: Invalid value for --force: it lets --output replace a file"),
        (["--to", "keras", "-q"], "Error: Invalid value for --quiet: it prints nothing"),
        (
            ["--to", "npz", "-o", "w.npz", "--name", "m"],
            "Error: Invalid value for --name: an .npz of weights",
        ),
    ],
)
def test_refusals(args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("export", "3->2", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert list(tmp_path.iterdir()) == []
