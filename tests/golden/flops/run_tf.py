"""TF profiler float_ops computed exactly the way keras-flops' get_flops() does (keras_flops/flops_calculation.py).

    ~/.venvs/tfflops/bin/python run_tf.py OUT.json [NAME ...]

Each model of models.py as a Keras 3 Sequential (a Dense with an activation is one layer, an
("act", ...) an Activation layer of its own), measured at its batch size.
"""
import io, json, os, sys, contextlib
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2_as_graph
from tensorflow.keras import Sequential, Input
from tensorflow.keras.layers import Dense, Activation, BatchNormalization, Dropout, Flatten, LayerNormalization
from models import MODELS, activation_arguments

OUT = sys.argv[1]
RUN = sys.argv[2:] or list(MODELS)


def keras_activation(act):
    """A Keras name, or a function calling the Keras activation with its arguments."""
    name, arguments = activation_arguments(act)
    if not arguments:
        return name
    function = getattr(tf.keras.activations, name)
    return lambda x: function(x, **arguments)


def build(name):
    tf.keras.utils.set_random_seed(0)
    model = MODELS[name]
    layers = [Input(tuple(model["input"]))]
    for kind, *args in model["layers"]:
        if kind == "dense":
            units, act, bias = [*args, *[None, None, True][len(args):]]
            layers.append(Dense(units, activation=None if act is None else keras_activation(act), use_bias=bias))
        elif kind == "act":
            layers.append(Activation(keras_activation(args[0])))
        elif kind == "bn":
            layers.append(BatchNormalization())
        elif kind == "ln":
            layers.append(LayerNormalization())
        elif kind == "dropout":
            layers.append(Dropout(args[0]))
        elif kind == "flatten":
            layers.append(Flatten())
    return Sequential(layers), model["batch"]


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


for name in RUN:
    try:
        model, bs = build(name)
        res["models"][name] = measure(model, bs)
    except Exception as e:
        import traceback
        res["models"][name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-2000:]}
    print(name, res["models"][name].get("total"), res["models"][name].get("by_op_type"), res["models"][name].get("error", ""), flush=True)

with open(OUT, "w") as f:
    json.dump(res, f, indent=1)
