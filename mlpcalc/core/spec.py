"""The spec language: text such as `784->512:relu->bn->dropout(0.2)->10:softmax` -> Spec.

Grammar (EBNF; white space may stand around any token):

    spec        = input , arrow , layer , { arrow , layer } , [ default ] ;
    input       = size , { "x" , size } ;            (* 784, 32x784, 6x5x4 (also "×") *)
    arrow       = "->" | "→" ;
    layer       = dense | norm | "flatten" | dropout | activation ;
    dense       = size , [ "*" , size ] , { ":" , ( activation | "nobias" ) } ;
    norm        = ( "bn" | "batchnorm" | "ln" | "layernorm" ) , [ "(" , number , ")" ] ;  (* epsilon *)
    dropout     = "dropout" , "(" , number , ")" ;   (* rate in [0, 1) *)
    activation  = name , [ "(" , argument , ")" ] ;  (* relu, leaky_relu(0.1), gelu(tanh) *)
    default     = white space , activation ;         (* for every Dense without one, but the last *)
    size        = digit , { [ "_" ] , digit } ;      (* a positive integer, 100_000 allowed *)

`128*3:selu` is three identical Dense layers; `bn(1e-5)` a BatchNormalization whose epsilon is
1e-5 (PyTorch's default) rather than Keras's 1e-3; `flatten` folds every feature axis into
one (28x28 -> 784), as Keras's Flatten() does before a Dense. A default activation at the
end (after white space) goes to every Dense that has none of its own except the model's
last Dense, which stays linear (logits), as `Dense(10)` does in Keras.

The parser is pure Python: no numpy, no rich, no typer. Every error is a SpecError
carrying the span of the offending token.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby
from typing import NamedTuple

from mlpcalc.core.activations import GELU_FORMS, KINDS, LINEAR, Activation, format_number
from mlpcalc.core.errors import SpecError
from mlpcalc.core.layers import (
    EPSILON,
    NAMED_LAYERS,
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Layer,
    LayerNormalization,
    Shape,
)

MAX_SIZE = 10**15  # largest units / input dim / repeat count a spec may give
MAX_LAYERS = 10_000  # beyond this a spec is a mistake, its table unreadable and slow to draw
MAX_RANK = 32  # input dimensions (batch aside): numpy holds 64 at most, and no MLP needs more
MAX_VALUES = MAX_SIZE**2  # values in one sample's input: every figure stays a number JSON and floats hold
LAYER_WORDS = [*NAMED_LAYERS, "dropout", *KINDS]
EXAMPLE = "784->512->10 relu"


@dataclass(frozen=True)
class Spec:
    """A parsed spec: the input's feature shape (no batch) and the layers in order."""

    input_shape: Shape
    layers: tuple[Layer, ...]

    def __str__(self) -> str:
        """Canonical form: parses back to an equal Spec; identical Dense runs use `*`."""
        parts = ["x".join(map(str, self.input_shape))]
        # A long spec repeats a few layer objects: each is written once. Texts are canonical,
        # so equal texts are equal layers, and runs are found comparing strings.
        texts: dict[int, str] = {}
        layer_of: dict[str, Layer] = {}
        for layer in self.layers:
            if id(layer) not in texts:
                texts[id(layer)] = text = str(layer)
                layer_of.setdefault(text, layer)
        for text, run in groupby(texts[id(layer)] for layer in self.layers):
            count = len(list(run))
            if count > 1 and isinstance(layer := layer_of[text], Dense):
                parts.append(layer.spec_text(repeat=count))
            else:
                parts.extend([text] * count)
        return "->".join(parts)


# ---------------------------------------------------------------------------- tokens

NUMBER_RE = re.compile(r"[+-]?(?:[0-9](?:_?[0-9])*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
INTEGER_RE = re.compile(r"[0-9](?:_?[0-9])*")
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SPACE_RE = re.compile(r"[ \t\r\n]*")
# ASCII space, then the tokens most specs are made of; each kind in its own group.
COMMON_RE = re.compile(rf"([ \t\r\n]*)(?:(->)|({NUMBER_RE.pattern})|({NAME_RE.pattern})|([:*()]))")
NAME_GROUP = 4
ARROW_RE = re.compile("->|→")  # the next arrow, found without scanning past it


class Kind(StrEnum):
    """What a token is."""

    NUMBER = "number"
    NAME = "name"
    ARROW = "->"
    DIMSEP = "x"
    COLON = ":"
    STAR = "*"
    LPAREN = "("
    RPAREN = ")"
    END = "end"


PUNCTUATION = {":": Kind.COLON, "*": Kind.STAR, "(": Kind.LPAREN, ")": Kind.RPAREN}
COMMON_KINDS = {2: Kind.ARROW, 3: Kind.NUMBER, NAME_GROUP: Kind.NAME}


class Token(NamedTuple):
    """A piece of the spec and where it stands in it, for errors that point at it (a tuple:
    a spec of 10,000 layers cuts 40,000 of them, and a tuple is built the fastest)."""

    kind: Kind
    text: str
    start: int
    space_before: bool  # white space separates it from the previous token

    @property
    def end(self) -> int:
        return self.start + max(len(self.text), 1)


def _is_space(char: str) -> bool:
    # Spaces, tabs, newlines and the Unicode spaces a copy-paste brings (no-break,
    # em, ideographic); never control characters, which the caret line could not show.
    return char in " \t\r\n" or unicodedata.category(char) == "Zs"


class Tokens:
    """The tokens of `source`, with their spans, cut one at a time as the parser reads: a spec
    that goes wrong early (a million layers, a million input dims) is refused at once. After
    the last token, END, every read is END again."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.last: Token | None = None

    def next(self) -> Token:
        source, pos, last = self.source, self.pos, self.last
        # The common token, ASCII space before it, in one match; the rest (Unicode spaces,
        # "x" between sizes, errors) the long way.
        match = COMMON_RE.match(source, pos)
        after_size = last is not None and last.kind is Kind.NUMBER
        if match and not (match.lastindex == NAME_GROUP and after_size and match[NAME_GROUP][0] == "x"):
            group = match.lastindex or 0
            text, start = match[group], match.end(1)
            self.pos = match.end()
            self.last = Token(COMMON_KINDS.get(group) or PUNCTUATION[text], text, start, start > pos)
            return self.last
        spaced = False
        while pos < len(source) and _is_space(source[pos]):
            pos, spaced = pos + 1, True
        if pos >= len(source):
            self.pos = pos
            return Token(Kind.END, "", len(source), spaced)
        kind, text = _next_token(source, pos, last)
        self.pos, self.last = pos + len(text), Token(kind, text, pos, spaced)
        return self.last


def tokenize(source: str) -> list[Token]:
    """Every token of `source` with its span; the list always ends with END."""
    tokens = Tokens(source)
    cut = [tokens.next()]
    while cut[-1].kind is not Kind.END:
        cut.append(tokens.next())
    return cut


def _next_token(source: str, pos: int, last: Token | None) -> tuple[Kind, str]:
    char = source[pos]
    if source.startswith("->", pos):
        return Kind.ARROW, "->"
    if char == "→":
        return Kind.ARROW, char
    # "x" between two sizes, as in 32x784 or 32 x 784, separates input dims; elsewhere
    # it starts a name.
    if char in "x×" and last and last.kind is Kind.NUMBER:
        after = SPACE_RE.match(source, pos + 1).end()  # type: ignore[union-attr]
        if source[after : after + 1] in tuple("0123456789"):
            return Kind.DIMSEP, char
    if match := NUMBER_RE.match(source, pos):
        return Kind.NUMBER, match.group()
    if match := NAME_RE.match(source, pos):
        return Kind.NAME, match.group()
    if char in PUNCTUATION:
        return PUNCTUATION[char], char
    raise SpecError(
        f"unexpected character {_describe_char(char)}",
        source,
        pos,
        expected="a layer size, a layer name, '->', ':', '*' or parentheses",
    )


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_char(char: str) -> str:
    if char.isprintable():
        return f"'{char}' (U+{ord(char):04X})" if not char.isascii() else f"'{char}'"
    return f"U+{ord(char):04X} (a control character)"


# ---------------------------------------------------------------------------- parser


@dataclass(frozen=True)
class _DenseDraft:
    """A Dense as written, before the default activation is known."""

    units: int
    repeat: int
    activation: Activation | None
    use_bias: bool


def _repeat(draft: _DenseDraft | Layer) -> int:
    """How many layers a draft stands for."""
    return draft.repeat if isinstance(draft, _DenseDraft) else 1


class _Parser:
    """Recursive descent over the tokens, one method per rule of the grammar."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = Tokens(source)
        # The token read next, cut only when it is read: the error a spec gets is the first one
        # a reader meets, not that of an unreadable character further on.
        self._next: Token | None = None
        self.previous = Token(Kind.END, "", 0, False)  # the token read last
        self.layer_count = 0  # layers so far, repeats counted
        self.default_start = len(source)

    # -- helpers
    @property
    def token(self) -> Token:
        if self._next is None:
            self._next = self.tokens.next()
        return self._next

    def at(self, kind: Kind) -> bool:
        return self.token.kind is kind

    def advance(self) -> Token:
        self.previous, self._next = self.token, None
        return self.previous

    def error(self, message: str, token: Token, **extra: str | None) -> SpecError:
        return SpecError(message, self.source, token.start, token.end, **extra)

    def received(self, token: Token) -> str:
        if token.kind is Kind.END:
            return "the end of the spec"
        return f"'{_shorten(token.text)}'"

    def expect(self, kind: Kind, what: str) -> Token:
        if self.token.kind != kind:
            raise self.error(f"expected {what}, received {self.received(self.token)}", self.token)
        return self.advance()

    def size(self, what: str) -> int:
        """A positive integer: units, an input dim or a repeat count."""
        token = self.token
        if token.kind is not Kind.NUMBER:
            raise self.error(f"expected {what} (a positive integer), received {self.received(token)}", token)
        if not INTEGER_RE.fullmatch(token.text):
            raise self.error(f"{what} must be a positive integer, received {_shorten(token.text)}", token)
        digits = token.text.replace("_", "").lstrip("0") or "0"
        # Compare lengths first: int() of thousands of digits is slow, and refused past 4,300.
        value = int(digits) if len(digits) <= len(str(MAX_SIZE)) else MAX_SIZE + 1
        if value == 0:
            raise self.error(f"{what} must be a positive integer, received {_shorten(token.text)}", token)
        if value > MAX_SIZE:
            raise self.error(f"{what} is too large: at most {MAX_SIZE:,}", token)
        self.advance()
        return value

    def number(self, what: str) -> float:
        token = self.expect(Kind.NUMBER, what)
        value = float(token.text)
        if not math.isfinite(value):
            raise self.error(f"{what} must be a finite number, received {_shorten(token.text)}", token)
        return value

    # -- grammar
    def parse(self) -> Spec:
        if not self.source.strip():
            raise SpecError("the spec is empty", self.source, 0, expected=f"a spec such as '{EXAMPLE}'")
        first = self.token
        input_shape = [self.size("the input size")]
        while self.at(Kind.DIMSEP):
            if len(input_shape) == MAX_RANK:
                raise self.error(f"an input has at most {MAX_RANK} dimensions", self.advance())
            self.advance()
            input_shape.append(self.size("an input dimension"))
        if (values := math.prod(input_shape)) > MAX_VALUES:
            raise SpecError(
                f"the input has {values:.3g} values per sample: at most {MAX_VALUES:.0e}",
                self.source,
                first.start,
                self.token.start,
            )
        if self.at(Kind.END):
            raise self.error(
                "a model needs at least one layer after the input",
                self.token,
                expected=f"'->' and a layer, as in '{EXAMPLE}'",
            )
        self.expect(Kind.ARROW, "'->' after the input shape")
        drafts: list[_DenseDraft | Layer] = [self.counted(self.layer())]
        default: Activation | None = None
        parsed: dict[str, _DenseDraft | Layer] = {}
        while not self.at(Kind.END):
            if self.at(Kind.ARROW):
                self.advance()
                self.known_layers(parsed, drafts)
                drafts.append(self.counted(self.remembered_layer(parsed)))
            elif self.at(Kind.NAME) and self.token.space_before:
                self.default_start = self.token.start
                default = self.activation(self.advance(), role="default activation")
                if not self.at(Kind.END):
                    raise self.error(
                        f"expected the end of the spec after the default activation, "
                        f"received {self.received(self.token)}",
                        self.token,
                        hint="the default activation goes last, after a space",
                    )
            else:
                raise self.error(
                    f"expected '->' or the end of the spec, received {self.received(self.token)}",
                    self.token,
                )
        return Spec(tuple(input_shape), self.resolve(drafts, default))

    def counted(self, draft: _DenseDraft | Layer) -> _DenseDraft | Layer:
        """`draft`, once it is known that the layers so far are not too many (refused at once)."""
        self.layer_count += _repeat(draft)
        if self.layer_count > MAX_LAYERS:
            raise self.error(
                f"the spec has more than {MAX_LAYERS:,} layers: at most {MAX_LAYERS:,}",
                self.previous,
            )
        return draft

    def known_layers(self, parsed: dict[str, _DenseDraft | Layer], drafts: list[_DenseDraft | Layer]) -> None:
        """After an arrow: the layers whose text was parsed before, each followed by an arrow,
        read straight off the source, up to the first text not seen yet (a 10,000-layer spec
        repeats a few texts; cutting their tokens was most of its parsing)."""
        source, pos = self.source, self.tokens.pos
        start, arrow = pos, None
        while True:
            while start < len(source) and _is_space(source[start]):  # as the tokens skip it
                start += 1
            found = ARROW_RE.search(source, start)
            draft = parsed.get(source[start : found.start()]) if found and found.start() > start else None
            if found is None or draft is None or self.layer_count + _repeat(draft) > MAX_LAYERS:
                break  # a new text, the last one, or one too many (the error is the token path's)
            drafts.append(draft)
            self.layer_count += _repeat(draft)
            arrow = Token(Kind.ARROW, found[0], found.start(), _is_space(source[found.start() - 1]))
            pos = start = found.end()
        if arrow is not None:  # the arrow after the last layer read is the token read last
            self.tokens.pos, self.tokens.last, self.previous = pos, arrow, arrow

    def remembered_layer(self, parsed: dict[str, _DenseDraft | Layer]) -> _DenseDraft | Layer:
        """The layer after an arrow, from its tokens; its text (up to the next arrow), when the
        layer is all of it, remembered for known_layers. A layer's text parses alone, the same
        wherever it stands."""
        start = self.token.start
        found = ARROW_RE.search(self.source, start)
        draft = self.layer()
        if found and found.start() > start and self.token.start == found.start():
            parsed[self.source[start : found.start()]] = draft
        return draft

    def layer(self) -> _DenseDraft | Layer:
        token = self.token
        if token.kind is Kind.NUMBER:
            return self.dense()
        if token.kind is Kind.NAME:
            if token.text in NAMED_LAYERS:
                return self.named_layer()
            if token.text == "dropout":
                return self.dropout()
            if token.text == "nobias":
                raise self.error(
                    "'nobias' is a Dense option, not a layer",
                    token,
                    hint="write it after the units: 512:nobias",
                )
            return ActivationLayer(self.activation(self.advance(), role="layer"))
        raise self.error(
            f"expected a layer, received {self.received(token)}",
            token,
            expected=f"units (512), {', '.join(NAMED_LAYERS)}, dropout(rate) or an activation name",
        )

    def dense(self) -> _DenseDraft:
        units = self.size("the number of units")
        repeat = 1
        if self.at(Kind.STAR):
            self.advance()
            repeat = self.size("the repeat count")
            if repeat > MAX_LAYERS:
                raise self.error(f"the repeat count is too large: at most {MAX_LAYERS:,}", self.previous)
        activation: Activation | None = None
        use_bias = True
        while self.at(Kind.COLON):
            self.advance()
            token = self.expect(Kind.NAME, "an activation or 'nobias' after ':'")
            if token.text == "nobias":
                if not use_bias:
                    raise self.error("'nobias' is given twice", token)
                use_bias = False
            elif activation is not None:
                raise self.error(
                    f"a Dense layer takes one activation, received a second one: '{_shorten(token.text)}'",
                    token,
                )
            else:
                activation = self.activation(token, role="activation", allow_nobias=True)
        return _DenseDraft(units, repeat, activation, use_bias)

    def named_layer(self) -> Layer:
        """bn, ln or flatten; a norm with its epsilon in parentheses, if given: bn(1e-5)."""
        word = self.advance().text
        kind = NAMED_LAYERS[word]
        if not self.at(Kind.LPAREN):
            return kind()
        open_paren = self.advance()
        if not issubclass(kind, BatchNormalization | LayerNormalization):
            raise self.error(f"{word} takes no argument", open_paren, hint=f"write just '{word}'")
        token = self.token
        epsilon = self.number(f"the epsilon of {word}")
        if epsilon == 0 and re.search("[1-9]", re.split("[eE]", token.text)[0]):
            raise self.error(
                f"the epsilon of {word} is too small: {_shorten(token.text)} is 0 as a float", token
            )
        if epsilon <= 0:
            raise self.error(
                f"the epsilon of {word} must be positive, received {_shorten(token.text)}",
                token,
                hint=f"Keras's default is {format_number(EPSILON)}, PyTorch's 1e-05",
            )
        self.expect(Kind.RPAREN, f"')' after the epsilon of {word}")
        return kind(epsilon)

    def dropout(self) -> Dropout:
        self.advance()
        self.expect(Kind.LPAREN, "'(' and a rate after dropout, as in dropout(0.25)")
        token = self.token
        rate = self.number("a dropout rate")
        if not 0 <= rate < 1:
            raise self.error(f"the dropout rate must be in [0, 1), received {_shorten(token.text)}", token)
        self.expect(Kind.RPAREN, "')' after the dropout rate")
        return Dropout(rate)

    def activation(self, token: Token, role: str, allow_nobias: bool = False) -> Activation:
        """The activation named by `token` (already consumed), with its optional argument."""
        name = token.text
        if name == "nobias" and role == "default activation":
            raise self.error(
                "'nobias' is a Dense option, not an activation",
                token,
                hint="write it after the units of each Dense: 512:nobias",
            )
        if name not in KINDS:
            choices = [*KINDS, "nobias"] if allow_nobias else list(KINDS)
            if role == "layer":
                choices = LAYER_WORDS
            close = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else None
            what = "layer or activation" if role == "layer" else "activation"
            raise self.error(
                f"unknown {what} '{_shorten(name)}'",
                token,
                expected="one of " + ", ".join(choices),
                hint=hint,
            )
        kind = KINDS[name]
        if not self.at(Kind.LPAREN):
            return Activation(name)
        open_paren = self.advance()
        if kind.parameter is None:
            raise self.error(f"{name} takes no argument", open_paren, hint=f"write just '{name}'")
        if name == "gelu":
            form = self.expect(Kind.NAME, "tanh or erf inside gelu(...)")
            if form.text not in GELU_FORMS:
                raise self.error(f"gelu takes tanh or erf, received '{_shorten(form.text)}'", form)
            argument: float | bool = GELU_FORMS[form.text]
        else:
            argument = self.number(f"the {kind.parameter} of {name}")
        self.expect(Kind.RPAREN, f"')' after the argument of {name}")
        return Activation(name, argument)

    def resolve(self, drafts: list[_DenseDraft | Layer], default: Activation | None) -> tuple[Layer, ...]:
        """Expand repeats and hand the default activation to every Dense but the last."""
        total = sum(map(_repeat, drafts))
        if total > MAX_LAYERS:
            raise SpecError(
                f"the spec has {total:,} layers: at most {MAX_LAYERS:,}", self.source, 0, len(self.source)
            )
        last = max((i for i, d in enumerate(drafts) if isinstance(d, _DenseDraft)), default=-1)
        if default is not None and sum(d.repeat for d in drafts if isinstance(d, _DenseDraft)) < 2:
            # With no Dense but the last, the default could go nowhere: surely a mistake.
            raise SpecError(
                f"the default activation '{default}' applies to no layer: it goes to the Dense layers "
                "without an activation, except the last",
                self.source,
                self.default_start,
                len(self.source),
                hint="for an output activation, write it after the units, as in 784->10:softmax",
            )
        layers: list[Layer] = []
        made: dict[int, Dense] = {}  # one Dense per draft: a repeated text gives one layer object
        for i, draft in enumerate(drafts):
            if not isinstance(draft, _DenseDraft):
                layers.append(draft)
                continue
            if (dense := made.get(id(draft))) is None:
                activation = draft.activation or default or LINEAR
                dense = made[id(draft)] = Dense(draft.units, activation, draft.use_bias)
            layers += [dense] * draft.repeat
            if i == last and draft.activation is None:
                # The model's last Dense keeps no activation: it gives logits.
                layers[-1] = Dense(draft.units, LINEAR, draft.use_bias)
        return tuple(layers)


def parse_activation(source: str) -> Activation:
    """An activation as a spec writes it, alone: `leaky_relu(0.1)`, `gelu(tanh)`; SpecError if not."""
    parser = _Parser(source)
    activation = parser.activation(parser.expect(Kind.NAME, "an activation"), role="activation")
    parser.expect(Kind.END, "the end of the activation")
    return activation


def parse_spec(source: str) -> Spec:
    """Parse a spec; raise SpecError, with the span of the bad token, if it is invalid."""
    if not isinstance(source, str):
        raise TypeError(f"a spec is a str, received {type(source).__name__}")
    return _Parser(source).parse()
