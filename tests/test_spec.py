"""The spec language: what parses to what, what is refused and how, and properties of both."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcalc import SpecError, parse_spec
from mlpcalc.core.activations import KINDS, Activation
from mlpcalc.core.layers import ActivationLayer, BatchNormalization, Dense, Dropout, LayerNormalization
from mlpcalc.core.spec import MAX_LAYERS, Kind, Spec, _Parser, tokenize

RELU, LINEAR = Activation("relu"), Activation("linear")


@pytest.mark.parametrize(
    ("text", "input_shape", "layers"),
    [
        ("784->512->10", (784,), (Dense(512), Dense(10))),
        ("784 -> 512 -> 10", (784,), (Dense(512), Dense(10))),
        ("784→512→10", (784,), (Dense(512), Dense(10))),
        ("  784->10  ", (784,), (Dense(10),)),
        ("784->512->10 relu", (784,), (Dense(512, RELU), Dense(10))),
        ("784->512->10:softmax relu", (784,), (Dense(512, RELU), Dense(10, Activation("softmax")))),
        ("784->512:linear->10 relu", (784,), (Dense(512), Dense(10))),
        ("32x784->128", (32, 784), (Dense(128),)),
        ("6x5x4->8", (6, 5, 4), (Dense(8),)),
        ("6×5×4->8", (6, 5, 4), (Dense(8),)),
        ("32 x 784 -> 8", (32, 784), (Dense(8),)),
        ("0000000000000000000001->8", (1,), (Dense(8),)),
        ("8\u00a0->\u30004", (8,), (Dense(4),)),
        (
            "8->dropout(-0)->leaky_relu(-0.0)",
            (8,),
            (Dropout(0.0), ActivationLayer(Activation("leaky_relu", 0.0))),
        ),
        ("100_000->10", (100_000,), (Dense(10),)),
        ("8->512:nobias", (8,), (Dense(512, use_bias=False),)),
        ("8->512:relu:nobias", (8,), (Dense(512, RELU, False),)),
        ("8->512:nobias:relu", (8,), (Dense(512, RELU, False),)),
        ("8->4*3", (8,), (Dense(4),) * 3),
        ("8->4*3:selu", (8,), (Dense(4, Activation("selu")),) * 3),
        ("8->4*3 tanh", (8,), (Dense(4, Activation("tanh")),) * 2 + (Dense(4),)),
        ("8->4*2->3 tanh", (8,), (Dense(4, Activation("tanh")),) * 2 + (Dense(3),)),
        ("8->bn->ln->batchnorm->layernorm", (8,), (BatchNormalization(), LayerNormalization()) * 2),
        ("8->bn(1e-5)->ln( 1E-06 )", (8,), (BatchNormalization(1e-5), LayerNormalization(1e-6))),
        ("8->batchnorm(0.001)->layernorm(.001)", (8,), (BatchNormalization(), LayerNormalization())),
        ("8->dropout(0.25)", (8,), (Dropout(0.25),)),
        ("8->dropout(0)", (8,), (Dropout(0.0),)),
        ("8->dropout(.5)", (8,), (Dropout(0.5),)),
        ("8->relu", (8,), (ActivationLayer(RELU),)),
        ("8->relu->4->4 tanh", (8,), (ActivationLayer(RELU), Dense(4, Activation("tanh")), Dense(4))),
        ("8->leaky_relu(0.1)", (8,), (ActivationLayer(Activation("leaky_relu", 0.1)),)),
        ("8->4:leaky_relu", (8,), (Dense(4, Activation("leaky_relu", 0.2)),)),
        ("8->4:leaky_relu(0.2)", (8,), (Dense(4, Activation("leaky_relu", 0.2)),)),
        ("8->4:elu(0.5)", (8,), (Dense(4, Activation("elu", 0.5)),)),
        ("8->4:elu(-1e-3)", (8,), (Dense(4, Activation("elu", -0.001)),)),
        ("8->4:gelu(tanh)", (8,), (Dense(4, Activation("gelu", True)),)),
        ("8->4:gelu(erf)", (8,), (Dense(4, Activation("gelu", False)),)),
        ("8->4->2 gelu(tanh)", (8,), (Dense(4, Activation("gelu", True)), Dense(2))),
        (
            "8->4->bn->dropout(0.1)->2 relu",
            (8,),
            (Dense(4, RELU), BatchNormalization(), Dropout(0.1), Dense(2)),
        ),
    ],
)
def test_valid_specs(text: str, input_shape: tuple[int, ...], layers: tuple[object, ...]) -> None:
    assert parse_spec(text) == Spec(input_shape, layers)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("784 -> 512 -> 10 relu", "784->512:relu->10"),
        ("3->2->2->2 relu", "3->2*2:relu->2"),
        ("8→batchnorm→layernorm→4:nobias:relu", "8->bn->ln->4:relu:nobias"),
        ("8->4:leaky_relu(0.2)->4:gelu(erf)->4:elu(1)", "8->4:leaky_relu->4:gelu->4:elu"),
        ("8->4:leaky_relu(0.1)->gelu(tanh)->dropout(0.0)", "8->4:leaky_relu(0.1)->gelu(tanh)->dropout(0)"),
        ("100000->100000*1000->10", "100000->100000*1000->10"),
        ("8->batchnorm(1e-3)->layernorm(0.00001)->bn(2)", "8->bn->ln(1e-05)->bn(2)"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    spec = parse_spec(text)
    assert str(spec) == canonical
    assert parse_spec(canonical) == spec


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "the spec is empty", 1),
        ("   ", "the spec is empty", 1),
        ("784", "a model needs at least one layer after the input", 4),
        ("784->", "expected a layer, received the end of the spec", 6),
        ("->10", "expected the input size (a positive integer), received '->'", 1),
        ("784->0", "the number of units must be a positive integer, received 0", 6),
        ("784->-5", "the number of units must be a positive integer, received -5", 6),
        ("784->5.5", "the number of units must be a positive integer, received 5.5", 6),
        ("784->abc", "unknown layer or activation 'abc'", 6),
        ("784->512:rleu", "unknown activation 'rleu'", 10),
        ("784->512:relu:relu", "a Dense layer takes one activation, received a second one: 'relu'", 15),
        ("784->512:nobias:nobias", "'nobias' is given twice", 17),
        ("784->dropout(1.5)", "the dropout rate must be in [0, 1), received 1.5", 14),
        ("784->dropout(1)", "the dropout rate must be in [0, 1), received 1", 14),
        ("784->dropout(-0.1)", "the dropout rate must be in [0, 1), received -0.1", 14),
        ("784->bn(0)->2", "the epsilon of bn must be positive, received 0", 9),
        ("784->bn(1e-400)->2", "the epsilon of bn is too small: 1e-400 is 0 as a float", 9),
        ("784->ln(-1e-5)->2", "the epsilon of ln must be positive, received -1e-5", 9),
        ("784->bn(tanh)", "expected the epsilon of bn, received 'tanh'", 9),
        ("784->ln(1e-5", "expected ')' after the epsilon of ln, received the end of the spec", 13),
        ("784->flatten(1)->2", "flatten takes no argument", 13),
        (
            "784->dropout",
            "expected '(' and a rate after dropout, as in dropout(0.25), received the end of the spec",
            13,
        ),
        ("784->dropout(0.5", "expected ')' after the dropout rate, received the end of the spec", 17),
        ("784->relu(2)", "relu takes no argument", 10),
        ("784->gelu(fast)", "gelu takes tanh or erf, received 'fast'", 11),
        ("784->leaky_relu(inf)", "expected the negative_slope of leaky_relu, received 'inf'", 17),
        (
            "784->leaky_relu(1e999)",
            "the negative_slope of leaky_relu must be a finite number, received 1e999",
            17,
        ),
        ("784->nobias", "'nobias' is a Dense option, not a layer", 6),
        ("784->512:", "expected an activation or 'nobias' after ':', received the end of the spec", 10),
        (
            "784->512->10 relu softmax",
            "expected the end of the spec after the default activation, received 'softmax'",
            19,
        ),
        (
            "784->512 ->10 relu ->4",
            "expected the end of the spec after the default activation, received '->'",
            20,
        ),
        ("784 512", "expected '->' after the input shape, received '512'", 5),
        ("784->512 10", "expected '->' or the end of the spec, received '10'", 10),
        ("784->512relu", "expected '->' or the end of the spec, received 'relu'", 9),
        ("32x->10", "expected '->' after the input shape, received 'x'", 3),
        ("0x5->10", "the input size must be a positive integer, received 0", 1),
        ("784->10*0", "the repeat count must be a positive integer, received 0", 9),
        ("784->10*20000", "the repeat count is too large: at most 10,000", 9),
        (
            "784->10 relu",
            "the default activation 'relu' applies to no layer: it goes to the Dense layers "
            "without an activation, except the last",
            9,
        ),
        (
            "3->bn->relu softmax",
            "the default activation 'softmax' applies to no layer: it goes to the Dense "
            "layers without an activation, except the last",
            13,
        ),
        ("784->512->10 nobias", "'nobias' is a Dense option, not an activation", 14),
        ("784->512\x1f->10", "unexpected character U+001F (a control character)", 9),
        ("784->512\x85->10", "unexpected character U+0085 (a control character)", 9),
        ("784->512\u2028->10", "unexpected character U+2028 (a control character)", 9),
        (
            "000000000000000000000->2",
            "the input size must be a positive integer, received 000000000000000000000",
            1,
        ),
        ("784->10**2", "expected the repeat count (a positive integer), received '*'", 9),
        ("784->1" + "0" * 30, "the number of units is too large: at most 1,000,000,000,000,000", 6),
        ("784->\x07->10", "unexpected character U+0007 (a control character)", 6),
        ("784->🙂->10", "unexpected character '🙂' (U+1F642)", 6),
        ("784->512;10", "unexpected character ';'", 9),
        (
            "x" * 10_000,
            "expected the input size (a positive integer), received 'xxxxxxxxxxxxxxxxxxxxxxx…'",
            1,
        ),
    ],
)
def test_invalid_specs(text: str, message: str, column: int) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert caught.value.message == message
    assert caught.value.start + 1 == column


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("784->512:rleu", "did you mean 'relu'?"),
        ("784->reul", "did you mean 'relu'?"),
        ("784->512->10 sigmod", "did you mean 'sigmoid'?"),
        ("784->512:leakyrelu", "did you mean 'leaky_relu'?"),
        ("784->BN", "did you mean 'bn'?"),
        ("784->dropot(0.5)", "did you mean 'dropout'?"),
        ("784->512:nobais", "did you mean 'nobias'?"),
    ],
)
def test_did_you_mean(text: str, hint: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert caught.value.hint == hint


def test_too_many_layers_in_total() -> None:
    with pytest.raises(SpecError, match="at most 10,000"):
        parse_spec("8->" + "->".join(["4*6000"] * 2))
    assert len(parse_spec(f"8->4*{MAX_LAYERS}").layers) == MAX_LAYERS


# ------------------------------------------------------------------ properties

activations = st.one_of(
    st.sampled_from(sorted(KINDS)).map(Activation),
    st.sampled_from([0.0, -0.0]).map(lambda x: Activation("leaky_relu", x)),
    st.floats(-10, 10, allow_nan=False).map(lambda x: Activation("leaky_relu", x)),
    st.floats(-10, 10, allow_nan=False).map(lambda x: Activation("elu", x)),
    st.booleans().map(lambda b: Activation("gelu", b)),
)


# Keras's default, PyTorch's, and any positive float.
epsilons = st.sampled_from([1e-3, 1e-5]) | st.floats(0, exclude_min=True, allow_infinity=False)


def spec_strategy(largest: int) -> st.SearchStrategy[Spec]:
    """Any Spec the language can express, with sizes up to `largest`."""
    sizes = st.integers(1, largest)
    layers = st.one_of(
        st.builds(Dense, sizes, activations, st.booleans()),
        st.builds(BatchNormalization, epsilons),
        st.builds(LayerNormalization, epsilons),
        st.floats(0, 1, exclude_max=True).map(Dropout),
        st.just(Dropout(-0.0)),
        activations.map(ActivationLayer),
    )
    return st.builds(
        Spec,
        st.lists(sizes, min_size=1, max_size=4).map(tuple),
        st.lists(layers, min_size=1, max_size=12).map(tuple),
    )


specs = spec_strategy(10**6)


@given(specs)
def test_canonical_form_parses_back_to_the_same_spec(spec: Spec) -> None:
    assert parse_spec(str(spec)) == spec


def _rebuilt(activation: Activation, explicit: bool) -> Activation:
    """The same activation written another way: a zero argument with the other sign, a
    default argument given explicitly or left out."""
    kind, argument = activation.kind, activation.argument
    if isinstance(argument, float) and argument == 0:
        return Activation(activation.name, -argument)
    if kind.default is not None and argument == kind.default:
        return Activation(activation.name, kind.default if explicit else None)
    return Activation(activation.name, argument)


def _twin(spec: Spec, explicit: bool) -> Spec:
    """A spec equal to `spec`, built from other values wherever the language allows it."""
    layers: list[object] = []
    for layer in spec.layers:
        if isinstance(layer, Dense):
            layers.append(Dense(layer.units, _rebuilt(layer.activation, explicit), layer.use_bias))
        elif isinstance(layer, ActivationLayer):
            layers.append(ActivationLayer(_rebuilt(layer.activation, explicit)))
        elif isinstance(layer, Dropout):
            layers.append(Dropout(-layer.rate if layer.rate == 0 else layer.rate))
        else:
            layers.append(replace(layer))  # type: ignore[type-var]
    return Spec(tuple(spec.input_shape), tuple(layers))  # type: ignore[arg-type]


@given(specs, st.booleans())
def test_equal_specs_have_one_canonical_form(spec: Spec, explicit: bool) -> None:
    # Two random specs are almost never equal; a twin built from other values always is.
    twin = _twin(spec, explicit)
    assert twin == spec
    assert str(twin) == str(spec)


@pytest.mark.parametrize(
    ("a", "b", "text"),
    [
        (Dropout(-0.0), Dropout(0.0), "8->dropout(0)"),
        (ActivationLayer(Activation("elu", -0.0)), ActivationLayer(Activation("elu", 0.0)), "8->elu(0)"),
        (
            ActivationLayer(Activation("leaky_relu", -0.0)),
            ActivationLayer(Activation("leaky_relu", 0.0)),
            "8->leaky_relu(0)",
        ),
        # Keras 3's defaults: leaky_relu(negative_slope=0.2), elu(alpha=1.0), gelu(approximate=False).
        (Dense(4, Activation("leaky_relu", 0.2)), Dense(4, Activation("leaky_relu")), "8->4:leaky_relu"),
        (Dense(4, Activation("elu", 1.0)), Dense(4, Activation("elu")), "8->4:elu"),
        (Dense(4, Activation("gelu", False)), Dense(4, Activation("gelu")), "8->4:gelu"),
    ],
)
def test_one_canonical_form_for_zeros_of_either_sign_and_defaults(a: object, b: object, text: str) -> None:
    spec_a, spec_b = Spec((8,), (a,)), Spec((8,), (b,))  # type: ignore[arg-type]
    assert spec_a == spec_b
    assert str(spec_a) == str(spec_b) == text


@given(specs)
def test_canonical_form_is_a_fixed_point(spec: Spec) -> None:
    canonical = str(spec)
    assert str(parse_spec(canonical)) == canonical


ALPHABET = st.sampled_from(
    [*list("0123456789x×->→:*().e_ abcdfglnorstuv"), "relu", "bn", "dropout(", "\x00", "\x1c", "\x85", "🙂"]
)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.lists(ALPHABET, max_size=30).map("".join)))
def test_any_text_is_a_spec_or_a_spec_error(text: str) -> None:
    try:
        spec = parse_spec(text)
    except SpecError as error:
        assert 0 <= error.start <= error.end <= len(text)
        assert error.message
    else:
        assert spec.layers
        assert parse_spec(str(spec)) == spec


@settings(max_examples=500)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_tokens_are_the_source_cut_at_their_spans(text: str) -> None:
    # The tokenizer reads common tokens in one regex match and the rest the long way: either
    # way each token is its own text at its span, spaced exactly when white space precedes it.
    try:
        tokens = tokenize(text)
    except SpecError as error:
        assert 0 <= error.start < len(text)
        return
    end = 0
    for token in tokens[:-1]:
        assert text[token.start : token.start + len(token.text)] == token.text
        gap = text[end : token.start]
        assert gap.isspace() == token.space_before and (gap == "" or gap.isspace())
        end = token.start + len(token.text)
    assert tokens[-1].kind is Kind.END and not text[end:].strip()
    dims = [token for token in tokens if token.kind is Kind.DIMSEP]
    assert all(text[token.start + 1 :].lstrip()[:1].isdigit() for token in dims)


LAYER_TEXTS = ["512", "512:relu", "4*3", "bn", "bn(1e-5)", "dropout(0.5)", "gelu(tanh)", "8:nobias"]
LAYER_TEXTS += ["relu", "flatten", "4x", "bn(", "nobias", "512:relu:relu", "9*99999", "0", "→3", "2 relu"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(LAYER_TEXTS), min_size=1, max_size=12), st.sampled_from(["", " relu"]))
def test_a_repeated_layer_text_parses_as_it_does_alone(texts: list[str], default: str) -> None:
    # The parser parses each layer text once and reuses it where it comes again: the same
    # text spelt anew each time (spaces after it) must give the same spec, or the same error.
    def outcome(source: str) -> object:
        try:
            return parse_spec(source)
        except SpecError as error:
            return error.message

    reused = "6x4->" + "->".join(texts) + default
    spelt_anew = "6x4->" + "->".join(text + " " * i for i, text in enumerate(texts)) + default
    assert outcome(reused) == outcome(spelt_anew)


SPACED_TEXTS = [*LAYER_TEXTS, " 512", "\t512 ", "\u00a0512", " bn", "512 ", "", " "]


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from(SPACED_TEXTS), min_size=1, max_size=14),
    st.lists(st.sampled_from(["->", "->", "→"]), min_size=13, max_size=13),
    st.sampled_from(["", " relu", "->", "→", " "]),
)
def test_reading_known_layer_texts_off_the_source_changes_nothing(
    texts: list[str], arrows: list[str], ending: str
) -> None:
    # A layer text seen before is read straight off the source, up to the next arrow (either
    # kind): the spec, or the error with its span and hint, is what reading every token gives.
    def outcome(source: str) -> object:
        try:
            return parse_spec(source)
        except SpecError as error:
            return error.message, error.start, error.end, error.hint

    source = "6x4->" + texts[0] + "".join(map(str.__add__, arrows, texts[1:])) + ending
    fast = outcome(source)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(_Parser, "known_layers", lambda self, parsed, drafts: None)
        patched.setattr(_Parser, "remembered_layer", lambda self, parsed: self.layer())
        assert fast == outcome(source)


def test_a_repeated_layer_text_is_still_counted() -> None:
    with pytest.raises(SpecError, match="more than 10,000") as caught:
        parse_spec("8->" + "->".join(["4*3"] * 3334))
    assert caught.value.start == len("8->" + "->".join(["4*3"] * 3333) + "->4*")


@pytest.mark.parametrize(
    ("text", "message", "start"),
    [
        ("784->512:rellu;->10", "unknown activation 'rellu'", 9),
        ("784->512->10 rellu!", "unknown activation 'rellu'", 13),
        ("784->512*20000;", "the repeat count is too large: at most 10,000", 9),
        ("4->dropout(2\x00", "the dropout rate must be in [0, 1), received 2", 11),
        ("\x0b", "the spec is empty", 0),
        ("\u2028", "the spec is empty", 0),
    ],
)
def test_the_first_error_a_reader_meets_is_the_one_reported(text: str, message: str, start: int) -> None:
    # Tokens are cut as the parser reads them: an unreadable character after a bad token does not
    # hide the bad token's error (nor its hint).
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert (caught.value.message, caught.value.start) == (message, start)
