"""A long summary's rows are formatted from a template rich draws (render/keras.py keras_text), since
rich takes ~0.3 ms a row: the text must be rich's own, character for character, whatever the names
(wrapped at spaces, wide characters, words wider than a column, emoji codes), widths and options."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcalc.core.model import Model
from mlpcalc.core.spec import parse_spec
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.keras import FAST_ROWS, keras_renderables, keras_text, layout, render_plain

WORDS = st.sampled_from(
    ["dense", "a", "batch_normalization", "layer", "名前", "😀", "x" * 40, ":smile:", "(Dense)", "ü", "-"]
)
NAMES = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
LAYERS = st.sampled_from(["16:relu", "bn", "ln", "dropout(0.5)", "8", "relu", "1000000000000000"])


@st.composite
def models(draw: Any) -> Model:
    count = draw(st.integers(FAST_ROWS + 1, FAST_ROWS + 12))
    spec = parse_spec(
        draw(st.sampled_from(["8", "4x8"]))
        + "->"
        + "->".join(draw(st.lists(LAYERS, min_size=count, max_size=count)))
    )
    named = draw(st.booleans())
    names = tuple(f"{draw(NAMES)} {index}" for index in range(len(spec.layers))) if named else None
    return Model(spec, name=draw(st.sampled_from(["sequential", "a model"])), layer_names=names)


@settings(max_examples=60, deadline=None)
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


def test_a_long_table_takes_two_small_drawings_of_rich(monkeypatch: Any) -> None:
    # The template is used (rich draws one row and two), not rich's whole table, for 10,000 layers.
    import mlpcalc.render.keras as keras

    drawn: list[int] = []
    real = keras.render_plain

    def counted(renderables: Any, *args: Any, **kwargs: Any) -> str:
        drawn.append(renderables[1].row_count)
        return real(renderables, *args, **kwargs)

    monkeypatch.setattr(keras, "render_plain", counted)
    model = Model(parse_spec("784->" + "->".join(["512:relu", "bn"] * 5000)))
    text = keras_text(Figures(model, Settings()), 76, False, 80)
    assert drawn == [1, 2]
    assert text.count("(BatchNormalization)") == 5000
