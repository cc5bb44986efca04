"""TF profiler float_ops computed exactly the way keras-flops' get_flops() does (keras_flops/flops_calculation.py)."""
import io, json, os, sys, contextlib
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2_as_graph
from tensorflow.keras import Sequential, Input
from tensorflow.keras.layers import Dense, Activation, BatchNormalization, Dropout, LayerNormalization


def build(name):
    tf.keras.utils.set_random_seed(0)
    if name == "A":
        return Sequential([Input((3,)), Dense(2, name="dense0"), Activation("relu", name="relu1"), Dense(2, name="dense2"),
                           Activation("relu", name="relu3"), Dense(2, name="dense4")]), 1
    if name in ("B", "C"):
        return Sequential([Input((784,)), Dense(512, name="dense0"), Activation("relu", name="relu1"),
                           Dense(10, name="dense2")]), (1 if name == "B" else 32)
    if name == "D":
        return Sequential([Input((20, 16)), Dense(32, name="dense0"), Activation("gelu", name="gelu1"),
                           BatchNormalization(name="bn2"), Dropout(0.25, name="dropout3"), Dense(8, name="dense4"),
                           Activation("softmax", name="softmax5")]), 1
    if name == "E":
        return Sequential([Input((64,)), Dense(256, use_bias=False, name="dense0"), BatchNormalization(name="bn1"),
                           Activation("relu", name="relu2"), Dense(10, name="dense3")]), 1
    if name == "F":
        return Sequential([Input((100,)), LayerNormalization(name="ln0"), Dense(50, name="dense1"),
                           Activation("sigmoid", name="sigmoid2"), Dense(10, name="dense3"),
                           Activation("tanh", name="tanh4")]), 1


KACT = {  # keras activation per G model (same activation used fused in Dense and as a separate Activation layer)
    "G1": ("elu", "elu"),
    "G2": ("selu", "selu"),
    "G3": ("softplus", "softplus"),
    "G4": ("silu", "silu"),
    "G5": ("leaky_relu", lambda x: tf.keras.activations.leaky_relu(x, negative_slope=0.1)),
    "G6": ("gelu", lambda x: tf.keras.activations.gelu(x, approximate=True)),
    "G7": ("tanh", "tanh"),
}


def build2(name, variant="fused"):
    tf.keras.utils.set_random_seed(0)
    if name in KACT:
        nm, act = KACT[name]
        if variant == "fused":
            return Sequential([Input((8,)), Dense(6, activation=act, name="dense0_" + nm)]), 1
        return Sequential([Input((8,)), Dense(6, name="dense0"), Activation(act, name=nm + "1")]), 1
    if name == "H":
        return Sequential([Input((20, 16)), Dense(32, name="dense0"), LayerNormalization(name="ln1")]), 1
    if name == "I":
        return Sequential([Input((20, 16)), Dense(32, name="dense0"), Activation("softmax", name="softmax1"),
                           Activation("relu", name="relu2")]), 1
    if name == "J":
        return Sequential([Input((10,)), Dense(10, name="dense0"), Activation("relu", name="relu1"),
                           BatchNormalization(name="bn2"), Dense(3, name="dense3")]), 4


def get_flops_like_keras_flops(model, batch_size, cmd="scope"):
    inputs = [tf.TensorSpec([batch_size] + list(inp.shape[1:]), inp.dtype) for inp in model.inputs]
    real_model = tf.function(model).get_concrete_function(inputs)
    frozen_func, _ = convert_variables_to_constants_v2_as_graph(real_model)
    run_meta = tf.compat.v1.RunMetadata()
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    prof = tf.compat.v1.profiler.profile(graph=frozen_func.graph, run_meta=run_meta, cmd=cmd, options=opts)
    return prof, frozen_func.graph


def walk(node, out, depth=0):
    for c in node.children:
        out.append({"name": c.name, "float_ops": int(c.total_float_ops), "self_float_ops": int(c.float_ops)})
        walk(c, out, depth + 1)
    return out


res = {"package": "tensorflow-cpu (keras-flops method re-implemented; keras-flops itself not installed)",
       "version": f"tensorflow {tf.__version__}, keras {tf.keras.__version__ if hasattr(tf.keras, '__version__') else ''}",
       "call": "keras_flops.get_flops body: tf.function(model).get_concrete_function([tf.TensorSpec([bs]+inp.shape[1:])]) -> "
               "convert_variables_to_constants_v2_as_graph -> tf.compat.v1.profiler.profile(graph=frozen.graph, run_meta=RunMetadata(), "
               "cmd='scope', options=ProfileOptionBuilder.float_operation()).total_float_ops",
       "models": {}}
NEW = "--new" in sys.argv
JOBS = ([(n, "fused") for n in KACT] + [(n, "separate") for n in KACT] + [("H", None), ("I", None), ("J", None)]) if NEW \
    else [(n, None) for n in "ABCDEF"]


def measure(model, bs):
    prof, g = get_flops_like_keras_flops(model, bs, "scope")
    ops_in_graph = sorted({op.type for op in g.get_operations()})
    scope_nodes = [n for n in walk(prof, []) if n["float_ops"]]
    by_type = {}
    for n in scope_nodes:
        if n["self_float_ops"]:
            op = g.get_operation_by_name(n["name"])
            n["op_type"] = op.type
            n["input_shapes"] = [str(t.shape) for t in op.inputs]
            by_type[op.type] = by_type.get(op.type, 0) + n["self_float_ops"]
    per_layer = {}
    for n in scope_nodes:
        if n["self_float_ops"]:
            layer = n["name"].split("/")[1] if n["name"].startswith("sequential") and "/" in n["name"] else n["name"].split("/")[0]
            per_layer[layer] = per_layer.get(layer, 0) + n["self_float_ops"]
    return {"total": int(prof.total_float_ops), "unit": "float_ops (TF profiler; MatMul counted as 2*M*K*N)",
            "batch_size": bs, "per_layer": [{"layer": k, "float_ops": v} for k, v in per_layer.items()],
            "by_op_type": by_type, "per_node": [n for n in scope_nodes if n["self_float_ops"]],
            "graph_op_types": ops_in_graph}


for name, variant in JOBS:
    key = name if variant in (None, "fused") else name + "__separate"
    try:
        model, bs = build2(name, variant or "fused") if NEW else build(name)
        res["models"][key] = measure(model, bs)
        if variant:
            res["models"][key]["keras_variant"] = variant
    except Exception as e:
        import traceback
        res["models"][key] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-2000:]}
    print(key, res["models"][key].get("total"), res["models"][key].get("by_op_type"), res["models"][key].get("error", ""), flush=True)

json.dump(res, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "raw_tf2.json" if NEW else "raw_tf.json"), "w"), indent=1)
