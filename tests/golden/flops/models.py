"""The models every FLOP counter is run on, described once for PyTorch and for Keras alike.

Plain data, no torch or TensorFlow import: run_torch_tools.py builds each as a torch
nn.Sequential, run_tf.py as a Keras Sequential, assemble.py reads the specs. A model is

    spec    the mlpcalc spec it corresponds to
    batch   the rows the tools are given
    input   the features of one sample (its rank + 1 is the input's rank)
    layers  ("dense", units[, activation[, bias]]) | ("act", activation) | ("bn",) | ("ln",)
            | ("dropout", rate) | ("flatten",)

An activation is written as in a spec: relu, elu(0.5), leaky_relu(0.1), gelu(tanh), ...
A Dense with an activation is one Keras layer (Dense(activation=...)); in PyTorch it is a
Linear followed by the activation's module, as is a Dense followed by ("act", ...).
"""

ACTIVATIONS = [
    "relu", "sigmoid", "tanh", "softmax", "linear", "gelu", "elu", "selu", "softplus", "swish",
    "silu", "leaky_relu", "elu(0.5)", "elu(2)", "leaky_relu(0.1)", "gelu(tanh)",
]
# One sample of rank 1, 2 and 3 (inputs of rank 2, 3 and 4 with the batch).
INPUTS = {"16": [16], "5x16": [5, 16], "3x4x16": [3, 4, 16]}

MODELS = {
    "A": {"spec": "3->2->2->2 relu", "batch": 1, "input": [3],
          "layers": [("dense", 2), ("act", "relu"), ("dense", 2), ("act", "relu"), ("dense", 2)],
          "torch": "Linear(3,2), ReLU, Linear(2,2), ReLU, Linear(2,2); input (1,3)"},
    "B": {"spec": "784->512->10 relu", "batch": 1, "input": [784],
          "layers": [("dense", 512), ("act", "relu"), ("dense", 10)],
          "torch": "Linear(784,512), ReLU, Linear(512,10); input (1,784)"},
    "C": {"spec": "784->512->10 relu", "batch": 32, "input": [784],
          "layers": [("dense", 512), ("act", "relu"), ("dense", 10)],
          "torch": "same as B; input (32,784)"},
    "D": {"spec": "20x16->32:gelu->bn->dropout(0.25)->8:softmax", "batch": 1, "input": [20, 16],
          "layers": [("dense", 32), ("act", "gelu"), ("bn",), ("dropout", 0.25), ("dense", 8), ("act", "softmax")],
          "torch": "Linear(16,32), GELU, BNLastDim(32)=[transpose(1,2), BatchNorm1d(32), transpose(1,2)], "
                   "Dropout(0.25), Linear(32,8), Softmax(dim=-1); input (1,20,16)"},
    "E": {"spec": "64->256:nobias->bn->relu->10", "batch": 1, "input": [64],
          "layers": [("dense", 256, None, False), ("bn",), ("act", "relu"), ("dense", 10)],
          "torch": "Linear(64,256,bias=False), BatchNorm1d(256), ReLU, Linear(256,10); input (1,64)"},
    "F": {"spec": "100->ln->50:sigmoid->10:tanh", "batch": 1, "input": [100],
          "layers": [("ln",), ("dense", 50), ("act", "sigmoid"), ("dense", 10), ("act", "tanh")],
          "torch": "LayerNorm(100), Linear(100,50), Sigmoid, Linear(50,10), Tanh; input (1,100)"},
    **{name: {"spec": f"8->6:{act}", "batch": 1, "input": [8], "layers": [("dense", 6, act)],
              "torch": f"Linear(8,6), {module}; input (1,8)"}
       for name, act, module in [
           ("G1", "elu", "ELU(alpha=1.0)"), ("G2", "selu", "SELU"), ("G3", "softplus", "Softplus"),
           ("G4", "silu", "SiLU"), ("G5", "leaky_relu(0.1)", "LeakyReLU(0.1)"),
           ("G6", "gelu(tanh)", "GELU(approximate='tanh')"), ("G7", "tanh", "Tanh")]},
    "H": {"spec": "20x16->32->ln", "batch": 1, "input": [20, 16], "layers": [("dense", 32), ("ln",)],
          "torch": "Linear(16,32), LayerNorm(32); input (1,20,16)"},
    "I": {"spec": "20x16->32->softmax->relu", "batch": 1, "input": [20, 16],
          "layers": [("dense", 32), ("act", "softmax"), ("act", "relu")],
          "torch": "Linear(16,32), Softmax(dim=-1), ReLU; input (1,20,16)"},
    "J": {"spec": "10->10:relu->bn->3", "batch": 4, "input": [10],
          "layers": [("dense", 10), ("act", "relu"), ("bn",), ("dense", 3)],
          "torch": "Linear(10,10), ReLU, BatchNorm1d(10), Linear(10,3); input (4,10) (batch 4, eval: running stats)"},
    "K": {"spec": "28x28->flatten->128:relu->10", "batch": 1, "input": [28, 28],
          "layers": [("flatten",), ("dense", 128), ("act", "relu"), ("dense", 10)],
          "torch": "Flatten, Linear(784,128), ReLU, Linear(128,10); input (1,28,28)"},
    "L": {"spec": "6x5x4->8:relu->flatten->bn->3", "batch": 2, "input": [6, 5, 4],
          "layers": [("dense", 8), ("act", "relu"), ("flatten",), ("bn",), ("dense", 3)],
          "torch": "Linear(4,8), ReLU, Flatten, BatchNorm1d(240), Linear(240,3); input (2,6,5,4)"},
    "M": {"spec": "3x4x5->6->flatten", "batch": 4, "input": [3, 4, 5], "layers": [("dense", 6), ("flatten",)],
          "torch": "Linear(5,6), Flatten; input (4,3,4,5)"},
}  # fmt: skip

TORCH_ACTIVATIONS = {  # how the torch models write each activation (Keras's defaults)
    "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax(dim=-1)", "linear": "Identity",
    "gelu": "GELU", "elu": "ELU(alpha=1.0)", "selu": "SELU", "softplus": "Softplus", "swish": "SiLU",
    "silu": "SiLU", "leaky_relu": "LeakyReLU(0.2)", "elu(0.5)": "ELU(alpha=0.5)", "elu(2)": "ELU(alpha=2.0)",
    "leaky_relu(0.1)": "LeakyReLU(0.1)", "gelu(tanh)": "GELU(approximate='tanh')",
}  # fmt: skip

# Every activation, fused in a Dense (16->8:elu(0.5)) and as a layer of its own (16->8->elu(0.5)),
# on inputs of rank 2, 3 and 4.
for _act in ACTIVATIONS:
    for _dims, _features in INPUTS.items():
        _shape = ",".join(map(str, [1, *_features]))
        _module = TORCH_ACTIVATIONS[_act]
        _linear = "" if _act == "linear" else f", {_module}"
        MODELS[f"fused:{_act}:{_dims}"] = {
            "spec": f"{_dims}->8:{_act}", "batch": 1, "input": _features, "layers": [("dense", 8, _act)],
            "torch": f"Linear(16,8){_linear}; input ({_shape})",
        }  # fmt: skip
        MODELS[f"layer:{_act}:{_dims}"] = {
            "spec": f"{_dims}->8->{_act}", "batch": 1, "input": _features,
            "layers": [("dense", 8), ("act", _act)], "torch": f"Linear(16,8), {_module}; input ({_shape})",
        }  # fmt: skip


def activation_arguments(act):
    """'elu(0.5)' -> ('elu', {'alpha': 0.5}); Keras's argument names."""
    name, _, argument = act.partition("(")
    if not argument:
        return name, {}
    value = argument.rstrip(")")
    if name == "gelu":
        return name, {"approximate": value == "tanh"}
    return name, {{"elu": "alpha", "leaky_relu": "negative_slope"}[name]: float(value)}
