"""The texts of `mlpcalc --help`, written by scripts/generate_command_list.py from the CLI:
do not edit (render/typer_help.py draws them; tests/test_plain_help.py checks both)."""

from mlpcalc.render.typer_help import GroupHelp

PROGRAM = 'mlpcalc'  # the console script: the program typer's usage line names
COMMAND_LIST = GroupHelp(
    usage='[OPTIONS] COMMAND [ARGS]...',
    description=(
        'Shapes, parameter counts and Keras summaries of MLPs, from a one-line spec, without TensorFlow, Keras or PyTorch.\n'
        '\n'
        'Example: mlpcalc summary "784->512->10 relu"\n'
        '\n'
        'Spec language (docs/spec.md):\n'
        '\n'
        '  784->512->10            input 784; Dense 512, Dense 10 (no activation)\n'
        "  784->512:relu->10       an activation after ':'; some take an argument:\n"
        '                          gelu(tanh), elu(0.5), leaky_relu(0.1)\n'
        '  784->512->10 relu       after a space: every Dense but the last\n'
        '  64->256*3:gelu          *3: three identical Dense layers\n'
        '  64->256:nobias->bn      a Dense without bias; BatchNormalization\n'
        '  64->ln->relu->10        LayerNormalization; an Activation layer\n'
        '  64->dropout(0.2)->10    Dropout and its rate\n'
        '  28x28->flatten->10      input dimensions with x; Flatten\n'
        '\n'
        'Activations: relu, sigmoid, tanh, softmax, linear, gelu, elu, selu, softplus, swish, silu, leaky_relu.'
    ),
    options=(
        ('--version', '', 'Show the version and exit.'),
        ('--debug', '', 'Show a traceback for errors.'),
        ('--help', '-h', 'Show this message and exit.'),
    ),
    commands=(
        ('summary', "Print what Keras's model.summary() prints for SPEC."),
        ('variables', 'List every weight variable of SPEC: name, shape, trainable, count.'),
        ('costs', 'Compute and memory of SPEC: MACs, FLOPs (as each tool counts), memory.'),
        ('diff', 'Compare two models layer by layer and in total: params, MACs, memory.'),
        ('spec', 'Print the spec of a model file: the text the other commands take for the same model.'),
        ('check', 'Check models against budgets: exit 0 if all hold, 1 if any fails.'),
        ('compare', 'Compare many designs in one table: params, weights, MACs, FLOPs, memory.'),
        ('fit', 'Find the largest design of TEMPLATE within every limit given.'),
        ('forward', "Run SPEC forward with NumPy, as Keras's model(x, training=False) does."),
        ('init', 'Write initial weights for SPEC to a .npz file, one array per variable.'),
        ('export', 'Write SPEC as Keras or PyTorch code, an ONNX model, weights or a .keras file.'),
        ('diagram', 'Draw SPEC as the classic picture of a fully-connected network.'),
        ('completions', 'Print the completion script of SHELL: bash, zsh, fish or powershell.'),
    ),
)
