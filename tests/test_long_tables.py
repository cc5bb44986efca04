"""A long summary's rows are formatted from a template rich draws (render/keras.py keras_text), since
rich takes ~0.3 ms a row: the text must be rich's own, character for character, whatever the names
(wrapped at spaces, wide characters, words wider than a column, emoji codes), widths and options."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcalc.core.model import Model
from mlpcalc.core.spec import parse_spec
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.keras import FAST_ROWS, keras_renderables, keras_text, layout, render_plain

PLAIN = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)
WORDS = st.sampled_from(
    ["dense", "a", "batch_normalization", "layer", "x" * 40, "(Dense)", "-", "[b]", "[x]"]
)  # plain, or what a template must wrap, cut or leave to rich
ODD = st.sampled_from(
    ["名前 xxxxxxxxxxxxxxxxxxxxxxxxxx", "名前", "😀 wide", "back\\", ":smile:", "ü" * 40, "a  b", " lead",
     "e\u0301 combining", "[bold]x"]
)  # fmt: skip
LAYERS = st.sampled_from(["16:relu", "bn", "ln", "dropout(0.5)", "8", "relu", "1000000000000000"])


@st.composite
def models(draw: Any) -> Model:
    """Long models whose names are Keras's, plain words, or plain words and one odd name."""
    count = draw(st.integers(FAST_ROWS + 1, FAST_ROWS + 12))
    layers = draw(st.lists(LAYERS, min_size=count, max_size=count))
    spec = parse_spec(draw(st.sampled_from(["8", "4x8"])) + "->" + "->".join(layers))
    names: tuple[str, ...] | None = None
    style = draw(st.sampled_from(["keras", "words", "odd"]))
    if style != "keras":
        words = st.lists(st.one_of(PLAIN, WORDS), min_size=1, max_size=3).map(" ".join)
        listed = [f"{draw(words)} {index}" for index in range(len(spec.layers))]
        if style == "odd":
            listed[draw(st.integers(0, len(listed) - 1))] = draw(ODD)
        names = tuple(listed)
    return Model(spec, name=draw(st.sampled_from(["sequential", "a model"])), layer_names=names)


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
def test_odd_names_come_out_as_rich_draws_them(name: str, ascii_only: bool, monkeypatch: Any) -> None:
    # One odd name among plain ones (rich wraps wide characters by rules of its own, doubles a
    # backslash as it escapes it): the template draws what it can, rich the rest, the text rich's.
    import mlpcalc.render.keras as keras

    spec = parse_spec("8->" + "->".join(["4"] * 70))
    names = tuple([name, *(f"layer_{index}" for index in range(1, 70))])
    figures = Figures(Model(spec, layer_names=names), Settings())
    fast = keras_text(figures, 76, False, 80, ascii_only=ascii_only)
    monkeypatch.setattr(keras, "FAST_ROWS", 10**6)
    assert fast == keras_text(figures, 76, False, 80, ascii_only=ascii_only)


@pytest.mark.parametrize("ascii_only", [False, True])
def test_a_long_table_takes_two_small_drawings_of_rich(ascii_only: bool, monkeypatch: Any) -> None:
    # The template is used (rich draws one row and two), not rich's whole table, for 10,000 layers.
    import mlpcalc.render.keras as keras

    drawn: list[int] = []
    real = keras.render_plain

    def counted(renderables: Any, *args: Any, **kwargs: Any) -> str:
        drawn.append(renderables[1].row_count)
        return real(renderables, *args, **kwargs)

    monkeypatch.setattr(keras, "render_plain", counted)
    model = Model(parse_spec("784->" + "->".join(["512:relu", "bn"] * 5000)))
    text = keras_text(Figures(model, Settings()), 76, False, 80, ascii_only=ascii_only)
    assert drawn == [1, 2]
    assert text.count("(BatchNormalization)") == 5000
