"""A summary is drawn without rich where it can be (render/keras_table.py), and a long one's rows
from a template rich draws (render/keras.py keras_text), since rich takes ~0.3 ms a row: the text
must be rich's own, character for character, whatever the names (wrapped at spaces, wide
characters, words wider than a column, emoji codes), widths and options."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.table import Column, Table

from mlpcalc.core.model import Model
from mlpcalc.core.spec import parse_spec
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.keras import FAST_ROWS, keras_renderables, keras_text, render_plain
from mlpcalc.render.keras_table import (
    MAX_WIDTH,
    PLAIN,
    TRAINABLE,
    Layout,
    layout,
    plain_summary,
    totals_lines,
)

WORD = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)
WORDS = st.sampled_from(
    ["dense", "a", "batch_normalization", "layer", "x" * 40, "(Dense)", "-", "[b]", "[x]"]
)  # plain, or what a template must wrap, cut or leave to rich
ODD = st.sampled_from(
    ["名前 xxxxxxxxxxxxxxxxxxxxxxxxxx", "名前", "😀 wide", "back\\", ":smile:", "ü" * 40, "a  b", " lead",
     "e\u0301 combining", "[bold]x"]
)  # fmt: skip
SMALL_LAYERS = st.sampled_from(["16:relu", "bn", "ln", "dropout(0.5)", "8", "relu", "1000000"])
LAYERS = st.one_of(SMALL_LAYERS, st.just("1000000000000000"))


@st.composite
def models(
    draw: Any,
    shortest: int = FAST_ROWS + 1,
    styles: tuple[str, ...] = ("keras", "words", "odd"),
    kinds: st.SearchStrategy[str] | None = None,
    widest: int | None = None,
) -> Model:
    """Models of `shortest` layers or a few more (of `kinds`), whose names are Keras's, plain
    words (at most `widest` characters each), or plain words and one odd name."""
    count = draw(st.integers(shortest, shortest + 12))
    layers = draw(st.lists(LAYERS if kinds is None else kinds, min_size=count, max_size=count))
    spec = parse_spec(draw(st.sampled_from(["8", "4x8"])) + "->" + "->".join(layers))
    names: tuple[str, ...] | None = None
    style = draw(st.sampled_from(styles))
    if style != "keras":
        listed_words = WORDS if widest is None else WORDS.filter(lambda word: len(word) <= widest)
        words = st.lists(st.one_of(WORD, listed_words), min_size=1, max_size=3).map(" ".join)
        listed = [f"{draw(words)} {index}" for index in range(len(spec.layers))]
        if style == "odd":
            listed[draw(st.integers(0, len(listed) - 1))] = draw(ODD)
        names = tuple(listed)
    model_names = ["sequential", "a model", "[b]"]
    if style == "odd":
        model_names += ["x" * 90, "名前", "a:smile:", "back\\"]
    return Model(spec, name=draw(st.sampled_from(model_names)), layer_names=names)


@settings(max_examples=30, deadline=None)
@given(
    model=models(),
    width=st.integers(40, 140),
    show_trainable=st.booleans(),
    ascii_only=st.booleans(),
    first=st.integers(0, 3),
)
def test_a_long_table_is_what_rich_draws(
    model: Model, width: int, show_trainable: bool, ascii_only: bool, first: int
) -> None:
    width = max(width, layout(show_trainable).min_width)
    figures = Figures(model, Settings())
    for rows in (None, range(first, len(model.layers))):
        renderables = keras_renderables(figures, width, show_trainable=show_trainable, rows=rows)
        expected = render_plain(renderables, width, ascii_only=ascii_only)
        fast = keras_text(
            figures, width, False, width, show_trainable=show_trainable, rows=rows, ascii_only=ascii_only
        )
        assert fast == expected


@pytest.mark.parametrize("ascii_only", [False, True])
@pytest.mark.parametrize(
    "name",
    ["名前 xxxxxxxxxxxxxxxxxxxxxxxxxx", "back\\", "a" * 40, "words that wrap across the column"],
)
def test_odd_names_come_out_as_rich_draws_them(name: str, ascii_only: bool) -> None:
    # One odd name among plain ones (rich wraps wide characters by rules of its own, doubles a
    # backslash as it escapes it): the template draws what it can, rich the rest, the text rich's.
    spec = parse_spec("8->" + "->".join(["4"] * 70))
    names = tuple([name, *(f"layer_{index}" for index in range(1, 70))])
    figures = Figures(Model(spec, layer_names=names), Settings())
    fast = keras_text(figures, 76, False, 80, ascii_only=ascii_only)
    assert fast == render_plain(keras_renderables(figures, 76), 80, ascii_only=ascii_only)


@pytest.mark.parametrize(("ascii_only", "drawings"), [(False, []), (True, [1, 2])])
def test_a_long_table_takes_two_small_drawings_of_rich(
    ascii_only: bool, drawings: list[int], monkeypatch: Any
) -> None:
    # For 10,000 layers, rich draws nothing (plain text) or the template (one row and two), not
    # its whole table.
    import mlpcalc.render.keras as keras

    drawn: list[int] = []
    real = keras.render_plain

    def counted(renderables: Any, *args: Any, **kwargs: Any) -> str:
        drawn.append(renderables[1].row_count)
        return real(renderables, *args, **kwargs)

    monkeypatch.setattr(keras, "render_plain", counted)
    model = Model(parse_spec("784->" + "->".join(["512:relu", "bn"] * 5000)))
    text = keras_text(Figures(model, Settings()), 76, False, 80, ascii_only=ascii_only)
    assert drawn == drawings
    assert text.count("(BatchNormalization)") == 5000


@settings(max_examples=60, deadline=None)
@given(
    model=models(shortest=1),
    width=st.integers(16, 140),
    extra=st.integers(0, 30),
    show_trainable=st.booleans(),
    first=st.integers(0, 3),
)
def test_a_table_drawn_without_rich_is_what_rich_draws(
    model: Model, width: int, extra: int, show_trainable: bool, first: int
) -> None:
    width = max(width, layout(show_trainable).min_width)
    figures = Figures(model, Settings())
    for rows in (None, range(min(first, len(model.layers) - 1), len(model.layers))):
        plain = plain_summary(figures, width, width + extra, show_trainable=show_trainable, rows=rows)
        if plain is not None:  # else rich draws it (keras_text, above)
            renderables = keras_renderables(figures, width, show_trainable=show_trainable, rows=rows)
            assert plain == render_plain(renderables, width + extra)


@settings(max_examples=60, deadline=None)
@given(
    # A word wider than its column among others is rich's alone to wrap: none here (the first
    # column of a table 60 wide holds 24 characters).
    model=models(shortest=1, styles=("keras", "words"), kinds=SMALL_LAYERS, widest=24),
    width=st.integers(60, MAX_WIDTH),
    show_trainable=st.booleans(),
)
def test_plain_names_are_drawn_without_rich(model: Model, width: int, show_trainable: bool) -> None:
    # Keras's names or plain words and sizes, at the widths people use: plain text, and rich's
    # (a total line wider than the console, of a model of 10^12 parameters, rich wraps).
    figures = Figures(model, Settings())
    width = max(width, *map(len, totals_lines(figures)))
    plain = plain_summary(figures, width, width, show_trainable=show_trainable)
    assert plain is not None
    assert plain == render_plain(keras_renderables(figures, width, show_trainable=show_trainable), width)


@pytest.mark.parametrize("columns", [PLAIN, TRAINABLE], ids=["plain", "trainable"])
def test_the_drawn_widths_are_rich_s_at_every_width(columns: Layout) -> None:
    # Keras gives rich columns that fill the width; rich narrows them to make room for padding and
    # borders: Layout.drawn_widths says by how much, and rich's own drawing of each width agrees.
    for width in range(columns.min_width, MAX_WIDTH + 1):
        nominal = columns.widths(width) or []
        table = Table(
            *(Column(name, width=w) for name, w in zip(columns.header, nominal, strict=True)), width=width
        )
        top = render_plain([table], width).splitlines()[0]
        assert [len(part) - 2 for part in top[1:-1].split("┳")] == columns.drawn_widths(width), width
