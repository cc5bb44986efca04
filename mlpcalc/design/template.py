"""Templates: specs whose sizes are integer expressions of free sizes, as `784->W*3->10 relu`.

A template is a spec (core/spec.py) in which any size, the input's dimensions, a Dense's
units and a repeat count after `*`, may be an expression of named free sizes:

    784->W*3->10 relu           three Dense layers of W units
    784->W->W/2->10 relu        the second half as wide (floor division)
    32x784->W:gelu->ln->W->10   rank-3 input, layers between the sizes
    784->W*D->10 relu           D layers of W units: a depth
    784->(2*W)->W->10           a product, in parentheses
    Hx784->W+8->10              a free input dimension, a sum

Grammar (EBNF, in the spec's; white space may stand around an operator):

    template = the spec grammar, where each size position holds a size-expr ;
    size-expr = quotient , { ( "+" | "-" ) , quotient } ;      (* "-" before ">" is the arrow *)
    quotient = atom , { "/" , atom } ;
    atom     = integer | name | "(" , sum , ")" ;
    sum      = product , { ( "+" | "-" ) , product } ;
    product  = atom , { ( "*" | "/" ) , atom } ;
    name     = upper , { upper | digit | "_" } ;   (* W, V, H1, WIDTH; not followed by a lowercase letter *)
    integer  = digit , { [ "_" ] , digit } ;       (* at most MAX_SIZE *)

Decisions:

- Names are capitals, and every layer word (and the input's `x`) is lowercase, so the two
  never clash: `Hx784` is a free dimension H by 784, `Relu` is no name (the spec refuses it).
- At the top of a Dense's size, `*` keeps its spec meaning, a repeat count: `W*3` is three
  layers of W, `2*W` is W layers of 2. To multiply, use parentheses: `(2*W)`, `W*(2*D)`.
- `/` is floor division, as people expect of `W/2` on a grid of `multiple_of` values; a
  divisor is a positive integer constant.
- Monotone by construction: no name stands in the right operand of `-` or `/` (refused
  with the name's span), and a factor of a product may not be negative (refused at the
  values where it is). Then every expression is non-decreasing in each name: a constant or
  a name is; a sum of two non-decreasing terms is; a non-decreasing term minus a constant,
  or floor-divided by a positive constant, is; a product of two non-negative
  non-decreasing factors is. Every size then grows or stays as a name grows, and every
  figure of the model is non-decreasing in every size: a Dense's kernel and bias, a
  norm's vectors, each layer's MACs and FLOPs under every convention (sums of non-negative
  per-element, per-weight and per-position counts), the bytes of weights, gradients and
  optimizer states, the activations held at inference (a maximum of growing terms) and
  kept for training, and a larger repeat count only adds layers. So a design that breaks
  a budget, or the spec's limits (MAX_SIZE, MAX_LAYERS, MAX_VALUES), still breaks it at
  larger values: "fits" is closed downwards, which is what lets fit.py binary-search.
  Only two things fail at the small end, and never again above: a size 0 or negative
  (refused with the expression, the values and what to try), and a default activation
  with one Dense to go to (`784->W*D relu` at D=1), which the spec parser refuses.

Everything else is the spec's: `render` writes an integer in each size position and
`build` hands the text to the spec parser, whose errors come back with the template's
source and the span of the bad token in it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from mlpcalc.core.errors import SpecError
from mlpcalc.core.model import Model, parse
from mlpcalc.core.spec import INTEGER_RE, MAX_SIZE

NAME_RE = re.compile(r"[A-Z][A-Z0-9_]*")
ARROWS = ("->", "→")
DIMSEPS = "x×"
TEMPLATE_EXAMPLE = "784->W*3->10 relu"
MAX_OPERATIONS = 100  # in one size: far past any use, and short of Python's recursion limit
HINT_SEARCH_LIMIT = 2**256  # past this, no value of a name makes a size positive: no hint


# ---------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Number:
    """An integer in an expression."""

    value: int
    start: int
    end: int


@dataclass(frozen=True)
class Name:
    """A free size."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Operation:
    """`left op right`; `start`/`end` span both operands (and any parentheses around it)."""

    op: str
    left: Expr
    right: Expr
    start: int
    end: int


Expr = Number | Name | Operation


def names_in(expr: Expr) -> tuple[str, ...]:
    """The names in `expr`, in order of appearance, each once."""
    if isinstance(expr, Name):
        return (expr.name,)
    if isinstance(expr, Number):
        return ()
    return tuple(dict.fromkeys((*names_in(expr.left), *names_in(expr.right))))


class NegativeFactor(Exception):
    """A factor of a product that is negative: the product would shrink as the other grows."""

    def __init__(self, factor: Expr, value: int) -> None:
        super().__init__(value)
        self.factor, self.value = factor, value


def evaluate(expr: Expr, values: Mapping[str, int]) -> int:
    """`expr` at `values`; `/` floors; NegativeFactor for a product of a negative factor."""
    if isinstance(expr, Number):
        return expr.value
    if isinstance(expr, Name):
        return values[expr.name]
    left, right = evaluate(expr.left, values), evaluate(expr.right, values)
    if expr.op == "+":
        return left + right
    if expr.op == "-":
        return left - right
    if expr.op == "/":
        return left // right  # right is a positive constant (the parser checks it)
    for factor, value in ((expr.left, left), (expr.right, right)):
        if value < 0:
            raise NegativeFactor(factor, value)
    return left * right


def _first_name(expr: Expr) -> Name | None:
    if isinstance(expr, Name):
        return expr
    if isinstance(expr, Operation):
        return _first_name(expr.left) or _first_name(expr.right)
    return None


@dataclass(frozen=True)
class Slot:
    """A size position of the template and the expression written there."""

    what: str  # "the number of units", as the spec parser names the position
    expr: Expr
    start: int
    end: int


Piece = str | Slot  # the template's text between slots is kept as written


# ---------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class Template:
    """A parsed template: its text cut into verbatim pieces and size slots, and its free names
    in order of first appearance."""

    source: str
    pieces: tuple[Piece, ...]
    names: tuple[str, ...]

    def __str__(self) -> str:
        return self.source

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(piece for piece in self.pieces if isinstance(piece, Slot))

    def render(self, values: Mapping[str, int]) -> str:
        """The spec text with each size computed at `values` (every name given, an int each);
        a SpecError for a size that is not positive there, with the expression's span."""
        return self._assemble(self.sizes(values))[0]

    def sizes(self, values: Mapping[str, int]) -> tuple[int, ...]:
        """Each slot's size at `values`, in order; a SpecError for one that is not positive."""
        missing = [name for name in self.names if name not in values]
        extra = [name for name in values if name not in self.names]
        if missing or extra:
            raise ValueError(f"expected values for {', '.join(self.names)}, received {', '.join(values)}")
        sizes = []
        for slot in self.slots:
            size = self._evaluate(slot.expr, values, slot)
            if size < 1:
                raise self._not_positive(slot, slot.expr, size, values, "a positive integer")
            sizes.append(size)
        return tuple(sizes)

    def build(self, values: Mapping[str, int]) -> Model:
        """The Model at `values`: rendered, then parsed by the spec parser, whose SpecError is
        turned into one on the template (its span mapped back, the values named)."""
        text, segments = self._assemble(self.sizes(values))
        try:
            return parse(text)
        except SpecError as error:
            raise self._mapped(error, segments, f", with {_values_text(values)}") from None

    # -- helpers

    def _evaluate(self, expr: Expr, values: Mapping[str, int], slot: Slot) -> int:
        try:
            return evaluate(expr, values)
        except NegativeFactor as error:
            raise self._not_positive(
                slot, error.factor, error.value, values, "a factor that is not negative", least=0
            ) from None

    def _not_positive(
        self, slot: Slot, expr: Expr, value: int, values: Mapping[str, int], expected: str, least: int = 1
    ) -> SpecError:
        text = self.source[expr.start : expr.end]
        used = {name: values[name] for name in names_in(expr)}
        where = f" at {_values_text(used)}" if used else ""
        hints = []
        for name in used:
            smallest = self._smallest_making(slot, expr, name, values, least)
            if smallest is not None:
                hints.append(f"{name}={smallest:,}")
        if hints:
            hint = f"it is {'positive' if least else 'not negative'} from {' or '.join(hints)} on: raise the "
            hint += "lower end of the range" + ("s" if len(hints) > 1 else "")
        else:
            hint = f"write it so that it stays {'positive' if least else 'non-negative'}, as in W+8 or W/2+1"
        what = slot.what if expr is slot.expr else f"a factor of {slot.what}"
        return SpecError(
            f"{what} {text} is {value}{where}",
            self.source,
            expr.start,
            expr.end,
            expected=expected,
            hint=hint,
        )

    def _smallest_making(
        self, slot: Slot, expr: Expr, name: str, values: Mapping[str, int], least: int
    ) -> int | None:
        """The smallest value of `name` (others as in `values`) at which `expr` is at least `least`:
        that holds from some value on (see the module docstring), so a binary search finds it."""

        def holds(value: int) -> bool:
            try:
                return evaluate(expr, {**values, name: value}) >= least
            except NegativeFactor:
                return False

        low, high = values[name], max(values[name], 1)
        while not holds(high):
            if high > HINT_SEARCH_LIMIT:
                return None
            low, high = high, high * 2
        while low + 1 < high:  # holds(high); low fails (or is the start, which failed)
            middle = (low + high) // 2
            low, high = (low, middle) if holds(middle) else (middle, high)
        return high

    def _assemble(self, sizes: tuple[int, ...]) -> tuple[str, list[_Segment]]:
        """The spec text with `sizes` in the slots, and each piece's span in it and in the template."""
        parts: list[str] = []
        segments: list[_Segment] = []
        rendered, source, next_size = 0, 0, iter(sizes)
        for piece in self.pieces:
            text = piece if isinstance(piece, str) else str(next(next_size))
            if isinstance(piece, Slot):
                source = piece.start
            end = piece.end if isinstance(piece, Slot) else source + len(piece)
            segments.append(_Segment(rendered, rendered + len(text), source, end, isinstance(piece, Slot)))
            parts.append(text)
            rendered, source = rendered + len(text), end
        return "".join(parts), segments

    def _mapped(self, error: SpecError, segments: list[_Segment], suffix: str) -> SpecError:
        """`error`, raised on the rendered text, as an error on the template: a position in
        verbatim text maps one to one, one in a slot to the slot's expression."""

        def where(position: int, is_end: bool) -> int:
            for segment in segments:
                inside = segment.start < position <= segment.end if is_end else position < segment.end
                if inside:
                    if segment.is_slot:
                        return segment.source_end if is_end else segment.source_start
                    return segment.source_start + position - segment.start
            return len(self.source)

        start, end = where(error.start, False), where(error.end, True)
        return SpecError(
            error.message + suffix,
            self.source,
            start,
            max(end, start + 1),
            expected=error.expected,
            hint=error.hint,
        )


@dataclass(frozen=True)
class _Segment:
    """A piece's span in the rendered text (start, end) and in the template."""

    start: int
    end: int
    source_start: int
    source_end: int
    is_slot: bool


def _values_text(values: Mapping[str, int]) -> str:
    return ", ".join(f"{name}={value:,}" for name, value in values.items())


# ---------------------------------------------------------------------------- parsing


class _Scanner:
    """Cuts a template into verbatim text and size slots, parsing each slot's expression."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.pieces: list[Piece] = []
        self.text_start = 0  # where the verbatim text not yet cut into a piece begins

    def error(self, message: str, start: int, end: int | None = None, **extra: str | None) -> SpecError:
        return SpecError(message, self.source, start, end, **extra)

    # -- the template's structure: only where sizes stand; the rest is the spec parser's

    def scan(self) -> tuple[Piece, ...]:
        self.skip_space()
        if self.slot("the input size"):
            while self.dimension_separator():
                self.pos = _skip_space(self.source, self.pos + 1)
                self.slot("an input dimension")
            self.no_product("the input shape")
        while self.pos < len(self.source):
            arrow = next((a for a in ARROWS if self.source.startswith(a, self.pos)), None)
            if arrow is None:
                self.pos += 1
                continue
            self.pos += len(arrow)
            self.skip_space()
            if self.slot("the number of units"):
                after = _skip_space(self.source, self.pos)
                if self.source.startswith("*", after):
                    self.pos = _skip_space(self.source, after + 1)
                    if self.slot("the repeat count"):
                        self.no_product("a repeat count")
        self.flush(len(self.source))
        return tuple(self.pieces)

    def skip_space(self) -> None:
        self.pos = _skip_space(self.source, self.pos)

    def flush(self, end: int) -> None:
        if end > self.text_start:
            self.pieces.append(self.source[self.text_start : end])
        self.text_start = end

    def starts_expression(self, pos: int) -> bool:
        char = self.source[pos : pos + 1]
        return (char.isascii() and (char.isdigit() or char == "(")) or self.name_at(pos) is not None

    def name_at(self, pos: int) -> str | None:
        """The name at `pos`, if one stands there: capitals not run into a lowercase word."""
        match = NAME_RE.match(self.source, pos)
        if match is None:
            return None
        after = self.source[match.end() : match.end() + 1]
        if after.isalpha() and after.islower() and not self.is_dimension_separator(match.end()):
            return None  # `Relu`: a word, left to the spec parser to refuse
        return match.group()

    def is_dimension_separator(self, pos: int) -> bool:
        """Whether the x at `pos` separates input dimensions (32xW, Hx784): a size follows (its
        first character is enough, and reading no further keeps WxWxW... from recursing)."""
        if self.source[pos : pos + 1] not in tuple(DIMSEPS):
            return False
        char = self.source[_skip_space(self.source, pos + 1) :][:1]
        return char.isascii() and (char.isdigit() or char.isupper() or char == "(")

    def dimension_separator(self) -> bool:
        after = _skip_space(self.source, self.pos)
        if self.is_dimension_separator(after):
            self.pos = after
            return True
        return False

    def no_product(self, what: str) -> None:
        after = _skip_space(self.source, self.pos)
        if self.source.startswith("*", after):
            raise self.error(
                f"'*' after {what}: '*' multiplies only inside parentheses",
                after,
                hint=f"write the product in parentheses, as in {'(2*W)' if 'input' in what else 'W*(2*D)'}",
            )

    def slot(self, what: str) -> bool:
        """A size expression at `pos`, if one starts there, as a slot; a plain integer stays
        verbatim, for the spec parser to read as it is (100_000, 0, 1.5)."""
        if not self.starts_expression(self.pos):
            return False
        start = self.pos
        expr = _ExpressionParser(self, what).top()
        if isinstance(expr, Number) and not (start < self.pos and self.source[start] == "("):
            return True
        self.flush(start)
        self.pieces.append(Slot(what, expr, start, self.pos))
        self.text_start = self.pos
        return True


class _ExpressionParser:
    """Recursive descent over one size expression, from the scanner's position."""

    def __init__(self, scanner: _Scanner, what: str) -> None:
        self.scanner = scanner
        self.source = scanner.source
        self.what = what
        self.nodes = 0  # operations and parentheses so far: evaluation recurses through them

    @property
    def pos(self) -> int:
        return self.scanner.pos

    def top(self) -> Expr:
        """size-expr: `+`, `-` and `/` at the top; `*` is the repeat count's, left to the caller."""
        expr = self.quotient(top=True)
        while (op := self.operator("+-", top=True)) is not None:
            expr = self.operation(op, expr, self.quotient(top=True))
        return expr

    def quotient(self, top: bool) -> Expr:
        expr = self.atom()
        while (op := self.operator("/" if top else "*/", top)) is not None:
            expr = self.operation(op, expr, self.atom())
        return expr

    def sum(self) -> Expr:
        expr = self.quotient(top=False)
        while (op := self.operator("+-", top=False)) is not None:
            expr = self.operation(op, expr, self.quotient(top=False))
        return expr

    def operator(self, ops: str, top: bool) -> str | None:
        """The operator at the position (after white space), consumed, if it is one of `ops`;
        `-` before `>` is the arrow. At the top, white space is read past only if an
        operator follows (it may precede a default activation)."""
        after = _skip_space(self.source, self.pos)
        char = self.source[after : after + 1]
        if not char or char not in ops or self.source.startswith("->", after):
            if not top:
                self.scanner.pos = after
            return None
        self.scanner.pos = _skip_space(self.source, after + 1)
        return char

    def atom(self) -> Expr:
        source, pos = self.source, self.pos
        if match := INTEGER_RE.match(source, pos):
            digits = match.group().replace("_", "")
            if len(digits.lstrip("0")) > len(str(MAX_SIZE)) or int(digits) > MAX_SIZE:
                raise self.scanner.error(f"a number in a size is at most {MAX_SIZE:,}", pos, match.end())
            self.scanner.pos = match.end()
            return Number(int(digits), pos, match.end())
        if (name := self.scanner.name_at(pos)) is not None:
            self.scanner.pos = pos + len(name)
            return Name(name, pos, pos + len(name))
        if source.startswith("(", pos):
            self.count(pos)
            self.scanner.pos = _skip_space(source, pos + 1)
            inner = self.sum()
            if not source.startswith(")", self.pos):
                raise self.scanner.error(
                    f"expected ')' to close the '(' at column {pos + 1}, received {self._received()}",
                    self.pos,
                    expected="an operator (+ - * /) or ')'",
                )
            self.scanner.pos += 1
            return _spanned(inner, pos, self.pos)
        raise self.scanner.error(
            f"expected a size in {self.what}, received {self._received()}",
            pos,
            expected="an integer, a free size such as W, or '('",
        )

    def count(self, pos: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_OPERATIONS:
            raise self.scanner.error(
                f"a size has at most {MAX_OPERATIONS} operators and parentheses", pos, hint="simplify it"
            )

    def operation(self, op: str, left: Expr, right: Expr) -> Operation:
        self.count(right.start)
        if op in "-/" and (name := _first_name(right)) is not None:
            verb = "subtracted" if op == "-" else "divided by"
            raise self.scanner.error(
                f"{name.name} stands on the right of '{op}': a size may not shrink as a free size grows",
                name.start,
                name.end,
                hint=f"only constants may be {verb}, as in W-8 or (W+V)/2; every size must grow with each "
                "free size",
            )
        if op == "/":
            try:
                divisor = evaluate(right, {})
            except NegativeFactor as error:
                divisor = error.value
            if divisor < 1:
                raise self.scanner.error(
                    f"a divisor must be a positive integer, received {divisor}", right.start, right.end
                )
        return Operation(op, left, right, left.start, right.end)

    def _received(self) -> str:
        if self.pos >= len(self.source):
            return "the end of the template"
        if self.source.startswith("->", self.pos):
            return "'->'"
        char = self.source[self.pos]
        return f"'{char}'" if char.isprintable() else f"U+{ord(char):04X}"


def _skip_space(text: str, pos: int) -> int:
    """The position after any white space at `pos`, as the spec's tokenizer skips it (Unicode
    spaces a copy-paste brings included)."""
    while pos < len(text) and (text[pos] in " \t\r\n" or unicodedata.category(text[pos]) == "Zs"):
        pos += 1
    return pos


def _spanned(expr: Expr, start: int, end: int) -> Expr:
    """`expr` with the span of its parentheses, so that errors underline them too."""
    if isinstance(expr, Number):
        return Number(expr.value, start, end)
    if isinstance(expr, Name):
        return expr  # (W) is W: point at the name
    return Operation(expr.op, expr.left, expr.right, start, end)


def parse_template(source: str) -> Template:
    """A template from text; a SpecError with the span of the bad token if it is not one.

    The spec around the sizes is checked at once, by rendering every free size as 1 (2 for a
    repeat count, so a default activation has layers to go to) and parsing the result.
    """
    if not isinstance(source, str):
        raise TypeError(f"a template is a str, received {type(source).__name__}")
    pieces = _Scanner(source).scan()
    slots = [piece for piece in pieces if isinstance(piece, Slot)]
    names = tuple(dict.fromkeys(name for slot in slots for name in names_in(slot.expr)))
    template = Template(source, pieces, names)
    if not names:
        raise SpecError(
            "a template needs at least one free size such as W: "
            f"{source.strip() or 'an empty template'} has none",
            source,
            0,
            len(source),
            hint=f"name the sizes to fit in capitals, as in {TEMPLATE_EXAMPLE}",
        )
    constants = {slot.start: slot for slot in slots if not names_in(slot.expr)}
    placeholder = []
    for slot in slots:
        if slot.start in constants:
            size = template._evaluate(slot.expr, {}, slot)
            if size < 1:
                raise template._not_positive(slot, slot.expr, size, {}, "a positive integer")
            placeholder.append(size)
        else:
            placeholder.append(2 if slot.what == "the repeat count" else 1)
    text, segments = template._assemble(tuple(placeholder))
    try:
        parse(text)
    except SpecError as error:
        raise template._mapped(error, segments, "") from None
    return template
