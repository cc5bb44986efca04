"""ONNX out and in: onnxruntime computes what onnx_bytes writes as mlpcalc's engine does, torch's
files (tests/golden/onnx/) read to the specs written by hand, and a graph read back is the model
that was written."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from test_spec import activations
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app
from mlpcalc.core.errors import FileError, ModelError, WeightsError
from mlpcalc.core.layers import (
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
)
from mlpcalc.core.model import Model
from mlpcalc.core.spec import Spec
from mlpcalc.core.text import shown
from mlpcalc.engine.forward import forward, plan
from mlpcalc.engine.weights import Weights, init_weights
from mlpcalc.interop import onnx_import
from mlpcalc.interop.onnx_export import OPSETS, SPEC_KEY, onnx_bytes
from mlpcalc.interop.onnx_import import model_from_onnx, onnx_weights

GOLDEN = Path(__file__).parent / "golden" / "onnx"
INDEX = json.loads((GOLDEN / "index.json").read_text())
CASES = {case["id"]: case for case in INDEX["cases"]}
OUTPUTS = json.loads((GOLDEN / "outputs.json").read_text())
READ = [case_id for case_id, case in CASES.items() if "spec" in case["expected"]]
REFUSED = [case_id for case_id, case in CASES.items() if "error" in case["expected"]]

# Every activation, the arguments' other values too, and every layer kind, on inputs of rank 2, 3, 4.
ACTIVATIONS = [
    "relu", "sigmoid", "tanh", "softmax", "linear", "gelu", "gelu(tanh)", "elu", "elu(0.5)", "selu",
    "softplus", "swish", "silu", "leaky_relu", "leaky_relu(0.1)",
]  # fmt: skip
INPUTS = ["6", "3x6", "2x3x6"]
RTOL, ATOL = 1e-5, 1e-5  # float32: the two compute in other orders (matmul sums, erf)


def every_layer(activation: str, dims: str) -> str:
    """A spec with every layer kind: a Dense with the activation, BatchNormalization at the input's
    rank and after Flatten (rank 2), LayerNormalization, Dropout, the activation as a layer, a Dense
    without bias."""
    return (
        f"{dims}->5:{activation}->bn->ln->dropout(0.25)->{activation}->4:nobias->flatten->bn->3:{activation}"
    )


def drawn_weights(model: Model, seed: int = 0) -> Weights:
    """Keras's initial kernels; biases, gammas, betas and statistics drawn (not zeros and ones)."""
    rng = np.random.default_rng(seed)
    weights = init_weights(model, rng)
    for variable in model.variables:
        if variable.name in ("gamma", "moving_variance"):
            weights[variable.path] = rng.uniform(0.5, 2.0, variable.shape).astype(np.float32)
        elif variable.name != "kernel":
            weights[variable.path] = rng.normal(0.0, 0.5, variable.shape).astype(np.float32)
    return weights


def run_onnx(data: bytes, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"input": x})
    return np.asarray(y)


def engine(model: Model, weights: Weights, x: np.ndarray) -> np.ndarray:
    """What `mlpcalc forward` computes (engine/run.py calls the same forward)."""
    return forward(plan(model, len(x)), weights, x)


def inputs(model: Model, rows: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (3 * rng.standard_normal((rows, *model.spec.input_shape))).astype(np.float32)


def written(tmp: Path, data: bytes, name: str = "model.onnx") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------- out


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("dims", INPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_onnxruntime_computes_what_the_engine_does(activation: str, dims: str, opset: int) -> None:
    model = parse(every_layer(activation, dims))
    weights = drawn_weights(model)
    data = onnx_bytes(model, weights, opset)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    for rows in (1, 5):  # one file, any batch: the batch axis is symbolic
        x = inputs(model, rows)
        y = run_onnx(data, x)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y, engine(model, weights, x), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("opset", OPSETS)
def test_large_inputs_stay_finite_as_in_the_engine(opset: int) -> None:
    # Where naive formulas overflow (softplus, sigmoid, softmax, gelu's tails).
    model = parse("4->4:softplus->4:sigmoid->4:gelu->4:gelu(tanh)->4:silu->4:elu->4:selu->4:softmax")
    weights = {key: np.eye(4, dtype=np.float32) if key.endswith("kernel") else np.zeros(4, np.float32)
               for key in (v.path for v in model.variables)}  # fmt: skip
    x = np.array([[80.0, -80.0, 0.5, -0.5], [1e4, -1e4, 30.0, -30.0]], dtype=np.float32)
    y = run_onnx(onnx_bytes(model, weights, opset), x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, engine(model, weights, x), rtol=RTOL, atol=ATOL)


def graph_of(data: bytes) -> onnx.GraphProto:
    graph: onnx.GraphProto = onnx.load_from_string(data).graph
    return graph


def test_nodes_are_named_by_their_layers() -> None:
    model = parse("3x4->5:relu->bn->dropout(0.5)->3:gelu->swish->linear->flatten->ln")
    data = onnx_bytes(model, drawn_weights(model), opset=17)
    assert [(node.name, node.op_type) for node in graph_of(data).node] == [
        ("dense", "MatMul"),
        ("dense/bias_add", "Add"),
        ("dense/relu", "Relu"),
        ("batch_normalization/to_channels_first", "Transpose"),
        ("batch_normalization", "BatchNormalization"),
        ("batch_normalization/to_channels_last", "Transpose"),
        ("dropout", "Dropout"),
        ("dense_1", "MatMul"),
        ("dense_1/bias_add", "Add"),
        ("dense_1/gelu/scale", "Div"),
        ("dense_1/gelu/erf", "Erf"),
        ("dense_1/gelu/plus_one", "Add"),
        ("dense_1/gelu/times_x", "Mul"),
        ("dense_1/gelu", "Mul"),
        ("activation/sigmoid", "Sigmoid"),
        ("activation", "Mul"),
        ("activation_1", "Identity"),
        ("flatten", "Flatten"),
        ("layer_normalization", "LayerNormalization"),
    ]


def test_gelu_is_one_node_from_opset_20() -> None:
    model = parse("4->3:gelu->gelu(tanh)")
    nodes = graph_of(onnx_bytes(model, drawn_weights(model), opset=20)).node
    assert [(n.name, n.op_type, helper.get_attribute_value(n.attribute[0])) for n in nodes[2:]] == [
        ("dense/gelu", "Gelu", b"none"),
        ("activation", "Gelu", b"tanh"),
    ]


def test_the_file_is_float32_with_a_symbolic_batch_and_the_weights_by_their_paths() -> None:
    model = parse("2x3->4:elu(0.5)->bn")
    weights = drawn_weights(model)
    proto = onnx.load_from_string(onnx_bytes(model, {k: v.astype(np.float64) for k, v in weights.items()}))
    (source,), (sink,) = proto.graph.input, proto.graph.output
    assert (source.name, sink.name) == ("input", "output")
    for value, features in ((source, [2, 3]), (sink, [2, 4])):
        assert value.type.tensor_type.elem_type == TensorProto.FLOAT
        dims = value.type.tensor_type.shape.dim
        assert [dims[0].dim_param, *(d.dim_value for d in dims[1:])] == ["batch", *features]
    initializers = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for path, array in weights.items():
        assert initializers[path].dtype == np.float32
        np.testing.assert_array_equal(initializers[path], array)
    assert (proto.producer_name, proto.opset_import[0].version, proto.ir_version) == ("mlpcalc", 17, 8)
    assert {p.key: p.value for p in proto.metadata_props} == {SPEC_KEY: "2x3->4:elu(0.5)->bn"}


def test_a_fixed_batch_is_the_graphs(tmp_path: Path) -> None:
    model = parse("4->3:relu", batch=3)
    weights = drawn_weights(model)
    data = onnx_bytes(model, weights)
    assert graph_of(data).input[0].type.tensor_type.shape.dim[0].dim_value == 3
    x = inputs(model, 3)
    np.testing.assert_allclose(run_onnx(data, x), engine(model, weights, x), rtol=RTOL, atol=ATOL)
    assert model_from_onnx(written(tmp_path, data)).batch == 3


@pytest.mark.parametrize("opset", [0, 13, 16, 22, 100])
def test_other_opsets_are_refused(opset: int) -> None:
    model = parse("4->3")
    with pytest.raises(ModelError, match=f"expected an ONNX opset from 17 to 21, received {opset}"):
        onnx_bytes(model, drawn_weights(model), opset)


def test_weights_that_do_not_fit_are_refused() -> None:
    model = parse("4->3->bn")
    weights = drawn_weights(model)
    del weights["dense/bias"]
    weights["batch_normalization/gamma"] = np.ones(4, np.float32)
    with pytest.raises(WeightsError) as caught:
        onnx_bytes(model, weights)
    assert str(caught.value) == (
        "the weights do not fit 4->3->bn: missing dense/bias: expected shape (3,); "
        "batch_normalization/gamma: expected shape (3,), received (4,)"
    )


def test_a_model_past_protobufs_limit_is_refused_before_any_work() -> None:
    model = parse("100000->100000->10")  # 40 GB of float32 weights: none is drawn
    with pytest.raises(ModelError, match=r"an ONNX file holds at most 2\.00 GiB"):
        onnx_bytes(model, {})


def test_an_epsilon_float32_makes_zero_is_refused() -> None:
    model = parse("4->ln(1e-50)->3")
    with pytest.raises(ModelError, match=r"layer layer_normalization: ln\(1e-50\): ONNX stores the epsilon"):
        onnx_bytes(model, drawn_weights(model))


def test_an_argument_past_float32_is_refused() -> None:
    model = parse("4->3:leaky_relu(1e300)")
    with pytest.raises(ModelError, match="stores the negative_slope of leaky_relu as a float32"):
        onnx_bytes(model, drawn_weights(model))


# ------------------------------------------------------------------------------- in: torch's files


def test_the_torch_fixtures_are_there() -> None:
    assert len(READ) >= 12 and len(REFUSED) >= 5
    assert {path.stem for path in GOLDEN.glob("*.onnx")} == set(CASES)
    assert set(OUTPUTS) == set(READ)


@pytest.mark.parametrize("case_id", READ)
def test_torch_files_read_to_the_spec_written_by_hand(case_id: str) -> None:
    case = CASES[case_id]
    model = model_from_onnx(GOLDEN / case["file"])
    assert str(model.spec) == case["expected"]["spec"]
    assert model.batch == case["expected"].get("batch")
    assert model.name == "sequential"
    assert model.has_automatic_names  # torch's node names (/0/Gemm) are no layer names


@pytest.mark.parametrize("case_id", READ)
def test_the_engine_computes_what_torch_did_with_the_files_weights(case_id: str) -> None:
    path = GOLDEN / CASES[case_id]["file"]
    model = model_from_onnx(path)
    weights = onnx_weights(path, model)
    assert [(key, array.shape) for key, array in weights.items()] == [
        (v.path, v.shape) for v in model.variables
    ]
    x, y = (np.array(OUTPUTS[case_id][key], dtype=np.float32) for key in ("x", "y"))
    np.testing.assert_allclose(engine(model, weights, x), y, rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("case_id", REFUSED)
def test_torch_files_that_are_no_mlpcalc_model_are_refused_naming_the_node(case_id: str) -> None:
    case = CASES[case_id]
    path = GOLDEN / case["file"]
    with pytest.raises(FileError) as caught:
        model_from_onnx(path)
    message = str(caught.value)
    expected = case["expected"]["error"]
    assert message.startswith(f"{path}: ")
    assert f"node '{expected['node']}'" in message
    assert all(words in message for words in expected["words"]), message
    assert "\n" not in message


@pytest.mark.parametrize("case_id", ["refused_conv", "refused_prelu"])
def test_the_cli_refuses_them_with_exit_2(case_id: str) -> None:
    path = GOLDEN / CASES[case_id]["file"]
    result = CliRunner().invoke(app, ["summary", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert f"node '{CASES[case_id]['expected']['error']['node']}'" in result.stderr
    assert result.stdout == ""


def test_the_cli_summarizes_a_torch_file() -> None:
    result = CliRunner().invoke(
        app, ["summary", str(GOLDEN / "batchnorm_layernorm.onnx")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout
        == CliRunner().invoke(app, ["summary", "6->8->bn->relu->ln->2"], env={"COLUMNS": "200"}).stdout
    )


# ------------------------------------------------------------------------------- in: rules


def test_an_activation_after_a_dense_is_its_own_only_if_mlpcalc_says_so(tmp_path: Path) -> None:
    model = parse("4->3->relu->2->gelu")
    data = onnx_bytes(model, drawn_weights(model))
    assert str(model_from_onnx(written(tmp_path, data)).spec) == "4->3->relu->2->gelu"
    proto = onnx.load_from_string(data)
    proto.producer_name = "another tool"  # the same graph: node names are no layer names then
    read = model_from_onnx(written(tmp_path, proto.SerializeToString()))
    assert str(read.spec) == "4->3:relu->2:gelu"
    assert read.has_automatic_names


def test_the_spec_in_the_metadata_counts_only_where_the_graph_agrees(tmp_path: Path) -> None:
    model = parse("4->3:elu(0.123456789)->2:swish")
    proto = onnx.load_from_string(onnx_bytes(model, drawn_weights(model)))
    assert str(model_from_onnx(written(tmp_path, proto.SerializeToString())).spec) == str(model.spec)
    helper.set_model_props(proto, {SPEC_KEY: "4->3:elu(0.7)->2:swish"})
    # ONNX's float32 alpha, in its shortest decimal; silu: what the graph computes.
    assert (
        str(model_from_onnx(written(tmp_path, proto.SerializeToString())).spec)
        == "4->3:elu(0.12345679)->2:silu"
    )


MODEL_NAMES = st.sampled_from(["sequential", "mlp", "my model-2", "modèle"])
LAYER_NAMES = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="/"),
    min_size=1,
    max_size=10,
).filter(lambda name: shown(name) == name)
SIZES = st.integers(1, 6)
EPSILONS = st.sampled_from([1e-3, 1e-5, 1e-6, 0.1])
LAYERS = st.one_of(
    st.builds(Dense, SIZES, activations, st.booleans()),
    st.builds(BatchNormalization, EPSILONS),
    st.builds(LayerNormalization, EPSILONS),
    st.floats(0, 1, exclude_max=True).map(Dropout),
    activations.map(ActivationLayer),
    st.just(Flatten()),
)
SPECS = st.builds(
    Spec,
    st.lists(SIZES, min_size=1, max_size=3).map(tuple),
    st.lists(LAYERS, min_size=1, max_size=10).map(tuple),
)


@st.composite
def models(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Model:
    spec: Spec = draw(SPECS)
    count = len(spec.layers)
    names = draw(st.none() | st.lists(LAYER_NAMES, min_size=count, max_size=count, unique=True).map(tuple))
    return Model(spec, name=draw(MODEL_NAMES), batch=draw(st.none() | st.integers(1, 4)), layer_names=names)


@settings(max_examples=150, deadline=None)
@given(models(), st.sampled_from(OPSETS))
def test_a_model_written_reads_back_the_same(model: Model, opset: int) -> None:
    weights = drawn_weights(model)
    with tempfile.TemporaryDirectory() as folder:
        path = written(Path(folder), onnx_bytes(model, weights, opset))
        read = model_from_onnx(path)
        assert read.spec == model.spec
        assert [layer.name for layer in read.layers] == [layer.name for layer in model.layers]
        assert (read.name, read.batch) == (model.name, model.batch)
        read_weights = onnx_weights(path, read)
    assert list(read_weights) == list(weights)
    for key, array in weights.items():
        np.testing.assert_array_equal(read_weights[key], array)


@settings(max_examples=40, deadline=None)
@given(models(), st.sampled_from(OPSETS))
def test_onnxruntime_agrees_with_the_engine_on_random_models(model: Model, opset: int) -> None:
    weights = drawn_weights(model)
    x = inputs(model, model.batch or 2)
    y = run_onnx(onnx_bytes(model, weights, opset), x)
    np.testing.assert_allclose(y, engine(model, weights, x), rtol=1e-4, atol=1e-4)


def test_weights_for_another_model_are_refused(tmp_path: Path) -> None:
    model = parse("4->3")
    path = written(tmp_path, onnx_bytes(model, drawn_weights(model)))
    with pytest.raises(WeightsError, match=r"holds 4->3, not 4->5"):
        onnx_weights(path, parse("4->5"))


# ------------------------------------------------------------------------------- in: other writers


def tensor(name: str, values: Any, dtype: type[np.generic] = np.float32) -> onnx.TensorProto:
    proto: onnx.TensorProto = numpy_helper.from_array(np.asarray(values, dtype=dtype), name)
    return proto


def drawn(name: str, *shape: int, low: float = -1.0) -> onnx.TensorProto:
    values = np.random.default_rng(list(name.encode())).uniform(low, 1.0, shape)  # seeded by the name
    return tensor(name, values)


def node(op: str, inputs: list[str], output: str, **attributes: Any) -> onnx.NodeProto:
    made: onnx.NodeProto = helper.make_node(op, inputs, [output], name=output, **attributes)
    return made


def gelu_tanh_with_pow() -> bytes:
    # The tanh form in another order: Pow for the cube, 0.5 first, x last.
    nodes = [
        node("Pow", ["input", "three"], "cube"),
        node("Mul", ["kappa", "cube"], "cubic"),
        node("Add", ["cubic", "input"], "inner"),
        node("Mul", ["inner", "c"], "scaled"),
        node("Tanh", ["scaled"], "tanh"),
        node("Add", ["one", "tanh"], "shifted"),
        node("Mul", ["half", "shifted"], "halved"),
        node("Mul", ["halved", "input"], "output"),
    ]
    constants = [tensor("three", 3.0), tensor("kappa", [0.044715]), tensor("c", np.sqrt(2 / np.pi)),
                 tensor("one", 1.0), tensor("half", 0.5)]  # fmt: skip
    return graph_file(nodes, constants)


def gelu_erf_with_sub() -> bytes:
    # x * (erf(x * 0.7071) - (-1)) / 2, by way of Sub and Div.
    nodes = [
        node("Mul", ["input", "inverse_sqrt_2"], "scaled"),
        node("Erf", ["scaled"], "erf"),
        node("Sub", ["erf", "minus_one"], "shifted"),
        node("Mul", ["shifted", "input"], "product"),
        node("Div", ["product", "two"], "output"),
    ]
    constants = [tensor("inverse_sqrt_2", 1 / np.sqrt(2)), tensor("minus_one", -1.0), tensor("two", 2.0)]
    return graph_file(nodes, constants)


OTHER_WRITERS: dict[str, tuple[Callable[[], bytes], str]] = {
    "Reshape (0, -1) and MatMul with a bias of shape (1, units)": (
        lambda: graph_file(
            [
                node("Reshape", ["input", "shape"], "flat"),
                node("MatMul", ["flat", "w"], "product"),
                node("Add", ["product", "b"], "output"),
            ],
            [tensor("shape", [0, -1], np.int64), drawn("w", 6, 4), drawn("b", 1, 4)],
            inputs=[value("input", ["batch", 2, 3])],
        ),
        "2x3->flatten->4",
    ),
    "Reshape (-1, 6)": (
        lambda: graph_file(
            [node("Reshape", ["input", "shape"], "output")],
            [tensor("shape", [-1, 6], np.int64)],
            inputs=[value("input", ["batch", 2, 3])],
            output=["batch", 6],
        ),
        "2x3->flatten",
    ),
    "Gemm without transB, C of shape (1, units), then Relu": (
        lambda: graph_file(
            [node("Gemm", ["input", "w", "c"], "gemm"), node("Relu", ["gemm"], "output")],
            [drawn("w", 4, 3), drawn("c", 1, 3)],
            output=["batch", 3],
        ),
        "4->3:relu",
    ),
    "gelu's tanh form with Pow": (gelu_tanh_with_pow, "4->gelu(tanh)"),
    "gelu's erf form with Sub and Div": (gelu_erf_with_sub, "4->gelu"),
    "silu as sigmoid(x) * x": (
        lambda: graph_file([node("Sigmoid", ["input"], "gate"), node("Mul", ["gate", "input"], "output")]),
        "4->silu",
    ),
    "Dropout without a ratio, and with training_mode false": (
        lambda: graph_file(
            [node("Dropout", ["input"], "first"), node("Dropout", ["first", "r", "training"], "output")],
            [tensor("r", 0.1), tensor("training", False, np.bool_)],
        ),
        "4->dropout(0.5)->dropout(0.1)",
    ),
    "LayerNormalization without B": (
        lambda: graph_file(
            [node("LayerNormalization", ["input", "scale"], "output", epsilon=1e-3)], [drawn("scale", 4)]
        ),
        "4->ln",
    ),
    "BatchNormalization between Transposes": (
        lambda: graph_file(
            [
                node("Transpose", ["input"], "first", perm=[0, 2, 1]),
                node("BatchNormalization", ["first", "g", "b", "m", "v"], "norm", epsilon=1e-3),
                node("Transpose", ["norm"], "output", perm=[0, 2, 1]),
            ],
            [drawn("g", 4), drawn("b", 4), drawn("m", 4), drawn("v", 4, low=0.5)],
            inputs=[value("input", ["batch", 3, 4])],
            output=["batch", 3, 4],
        ),
        "3x4->bn",
    ),
}


@pytest.mark.parametrize("case", OTHER_WRITERS, ids=list(OTHER_WRITERS))
def test_other_writers_graphs_read_to_what_onnxruntime_computes(case: str, tmp_path: Path) -> None:
    make, spec = OTHER_WRITERS[case]
    data = make()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    path = written(tmp_path, data)
    model = model_from_onnx(path)
    assert str(model.spec) == spec
    x = inputs(model, 3)
    np.testing.assert_allclose(
        engine(model, onnx_weights(path, model), x), run_onnx(data, x), rtol=RTOL, atol=ATOL
    )


OTHER_REFUSALS: dict[str, tuple[Callable[[], bytes], str]] = {
    "Reshape to rank 3": (
        lambda: graph_file(
            [node("Reshape", ["input", "shape"], "output")],
            [tensor("shape", [0, 2, 2], np.int64)],
            output=["batch", 2, 2],
        ),
        "Reshape node 'output' reshapes to [0, 2, 2]: mlpcalc reads a Reshape to (batch, features)",
    ),
    "Dropout in training mode": (
        lambda: graph_file(
            [node("Dropout", ["input", "r", "t"], "output")], [tensor("r", 0.1), tensor("t", True, np.bool_)]
        ),
        "Dropout node 'output' has training_mode true: mlpcalc reads inference graphs",
    ),
    "Flatten from axis 2": (
        lambda: graph_file(
            [node("Flatten", ["input"], "output", axis=2)],
            inputs=[value("input", ["batch", 2, 2])],
            output=["batch", 4],
        ),
        "Flatten node 'output' flattens from axis 2: Keras's Flatten keeps the batch axis",
    ),
    "LayerNormalization over two axes": (
        lambda: graph_file(
            [node("LayerNormalization", ["input", "scale"], "output", axis=1, epsilon=1e-3)],
            [drawn("scale", 2, 2)],
            inputs=[value("input", ["batch", 2, 2])],
            output=["batch", 2, 2],
        ),
        "LayerNormalization node 'output' normalizes from axis 1 of its rank-3 input",
    ),
    "Selu with other constants": (
        lambda: graph_file([node("Selu", ["input"], "output", alpha=1.5)]),
        "Selu node 'output' has alpha=1.5 and gamma=1.050701: Keras's selu (and mlpcalc's) has",
    ),
    "a Dense's scale by 2": (
        lambda: graph_file([node("Mul", ["input", "two"], "output")], [tensor("two", 2.0)]),
        "Mul node 'output' is not a layer of an MLP",
    ),
}


@pytest.mark.parametrize("case", OTHER_REFUSALS, ids=list(OTHER_REFUSALS))
def test_other_writers_options_mlpcalc_cannot_express_are_refused(case: str, tmp_path: Path) -> None:
    make, reason = OTHER_REFUSALS[case]
    with pytest.raises(FileError) as caught:
        model_from_onnx(written(tmp_path, make()))
    assert reason in str(caught.value)


# ------------------------------------------------------------------------------- in: hostile files


def value(name: str, dims: list[int | str], kind: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    info: onnx.ValueInfoProto = helper.make_tensor_value_info(name, kind, dims)
    return info


def graph_file(
    nodes: list[onnx.NodeProto],
    initializers: Sequence[onnx.TensorProto] = (),
    inputs: list[onnx.ValueInfoProto] | None = None,
    opset: int = 17,
    output: list[int | str] | None = None,
) -> bytes:
    graph = helper.make_graph(
        nodes,
        "g",
        inputs or [value("input", ["batch", 4])],
        [value("output", output or ["batch", 4])],
        initializer=list(initializers),
    )
    data: bytes = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()
    return data


def kernel(shape: tuple[int, int] = (4, 4), name: str = "w") -> onnx.TensorProto:
    tensor: onnx.TensorProto = numpy_helper.from_array(np.ones(shape, np.float32), name)
    return tensor


def external() -> bytes:
    tensor = kernel()
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="../../../../etc/passwd")
    return graph_file([helper.make_node("MatMul", ["input", "w"], ["output"], name="m")], [tensor])


def claimed(shape: tuple[int, int]) -> bytes:
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=shape, raw_data=b"")
    return graph_file([helper.make_node("MatMul", ["input", "w"], ["output"], name="m")], [tensor])


def truncated() -> bytes:
    model = parse("4->8:relu->4")
    data = onnx_bytes(model, drawn_weights(model))
    return data[: len(data) // 2]


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "not protobuf": (lambda: b"\x00\x01\x02garbage\xff\xff", "not an ONNX model: protobuf cannot parse it"),
    "a spec, not a file": (lambda: b"784->512->10 relu\n", "not an ONNX model"),
    "empty": (lambda: b"", "not an ONNX model: it holds no graph of nodes"),
    "truncated": (truncated, "not an ONNX model"),
    "huge input": (
        lambda: graph_file(
            [helper.make_node("Relu", ["input"], ["output"], name="r")],
            inputs=[value("input", ["batch", 10**18])],
        ),
        "each size is 1 to 1,000,000,000,000,000",
    ),
    "huge weights": (
        lambda: claimed((4, 10**16)),
        "tensor 'w' has the shape (4, 10000000000000000): sizes go",
    ),
    "weights claimed": (
        lambda: claimed((4, 3)),
        "tensor 'w' of shape (4, 3) should hold 12 values and holds 0",
    ),
    "external data": (external, "tensor 'w' is kept in an external data file"),
    "a cycle": (
        lambda: graph_file(
            [
                helper.make_node("Add", ["input", "b"], ["a"], name="first"),
                helper.make_node("Relu", ["a"], ["b"], name="second"),
                helper.make_node("Relu", ["a"], ["output"], name="third"),
            ]
        ),
        "Add node 'first' reads 'b' before Relu node 'second' makes it: the nodes are out of order, or form "
        "a cycle",
    ),
    "branches": (
        lambda: graph_file(
            [
                helper.make_node("Relu", ["input"], ["a"], name="left"),
                helper.make_node("Sigmoid", ["input"], ["b"], name="right"),
                helper.make_node("Add", ["a", "b"], ["output"], name="join"),
            ]
        ),
        "Sigmoid node 'right' reads 'input', which Relu node 'left' reads too: the graph branches there",
    ),
    "two inputs": (
        lambda: graph_file(
            [helper.make_node("Add", ["input", "y"], ["output"], name="a")],
            inputs=[value("input", ["batch", 4]), value("y", ["batch", 4])],
        ),
        "the graph has 2 inputs and 1 outputs: an MLP has one of each",
    ),
    "opset 11": (
        lambda: graph_file([helper.make_node("Relu", ["input"], ["output"], name="r")], opset=11),
        "opset 11: mlpcalc reads opsets 13 to",
    ),
    "symbolic features": (
        lambda: graph_file(
            [helper.make_node("Relu", ["input"], ["output"], name="r")],
            inputs=[value("input", ["batch", "seq", 4])],
        ),
        "axis 1 of the input is symbolic ('seq'): mlpcalc needs the features' sizes",
    ),
    "integer input": (
        lambda: graph_file(
            [helper.make_node("Relu", ["input"], ["output"], name="r")],
            inputs=[value("input", ["batch", 4], TensorProto.INT64)],
        ),
        "the input 'input' is not a tensor of floats",
    ),
    "another domain": (
        lambda: graph_file([helper.make_node("Relu", ["input"], ["output"], name="r", domain="com.example")]),
        "Relu node 'r' is not a layer of an MLP",
    ),
    "a Gemm with alpha": (
        lambda: graph_file(
            [helper.make_node("Gemm", ["input", "w"], ["output"], name="g", alpha=2.0)], [kernel()]
        ),
        "Gemm node 'g' has alpha=2: a Dense is a Gemm with alpha=1",
    ),
    "weights computed from the input": (
        lambda: graph_file([helper.make_node("MatMul", ["input", "input"], ["output"], name="m")]),
        "MatMul node 'm' takes its second factor from 'input', which is computed from the input",
    ),
    "a kernel of the wrong shape": (
        lambda: graph_file(
            [helper.make_node("MatMul", ["input", "w"], ["output"], name="m")], [kernel((5, 4))]
        ),
        "MatMul node 'm' multiplies the 4 features of its input by weights of shape (5, 4)",
    ),
    "an unreadable name": (
        lambda: graph_file([helper.make_node("Conv", ["input"], ["output"], name="\x1b[31mred")]),
        "Conv node '\\x1b[31mred' is not a layer of an MLP",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_files_are_refused_in_one_line(case: str, tmp_path: Path) -> None:
    make, reason = HOSTILE[case]
    path = written(tmp_path, make())
    with pytest.raises(FileError) as caught:
        model_from_onnx(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_weights_claimed_but_not_held_are_refused_before_the_table(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"should hold 4,000,000,000,000 values and holds 0 \(a truncated"):
        model_from_onnx(written(tmp_path, claimed((4, 10**12))))


def test_a_file_past_protobufs_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = parse("4->3")
    path = written(tmp_path, onnx_bytes(model, drawn_weights(model)))
    monkeypatch.setattr(onnx_import, "MAX_FILE_BYTES", 100)
    with pytest.raises(FileError, match="an ONNX file holds at most 100 B"):
        model_from_onnx(path)


@pytest.mark.parametrize(
    "make", [lambda tmp: tmp, lambda tmp: tmp / "missing.onnx"], ids=["a folder", "no file"]
)
def test_what_cannot_be_read_is_a_file_error(make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path)
    with pytest.raises(FileError) as caught:
        model_from_onnx(path)
    assert str(caught.value).startswith(f"{path}: cannot be read: ")
    assert str(path) not in str(caught.value)[len(str(path)) :]  # named once
