"""The Python API's Model: the core's, showing itself as Keras's does, in a notebook or not.

`mlpcalc.parse` gives this Model. It adds only ways to show the model: `summary()` prints
Keras's text, `_repr_html_()` is the table a notebook shows, `diagram()` the picture. The
drawing is imported when one is asked for, so `import mlpcalc` stays pure Python.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from os import PathLike
from pathlib import Path
from typing import Any

from mlpcalc.core import model as core
from mlpcalc.core.spec import parse_spec


class Model(core.Model):
    """A Keras `Sequential` model as the spec describes it (mlpcalc.core.model.Model), which shows
    itself as Keras's does: `summary()`, the table in a notebook, and `diagram()`."""

    def __eq__(self, other: object) -> bool:
        # The same value as the core's Model of the same fields: this class only shows it.
        if not isinstance(other, core.Model):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(core.Model))

    __hash__ = core.Model.__hash__

    def summary(
        self,
        line_length: int | None = None,
        print_fn: Callable[[str], object] | None = None,
        show_trainable: bool = False,
        layer_range: tuple[str, str] | list[str] | None = None,
    ) -> None:
        """Print what Keras's `model.summary()` prints, plain: the same arguments, the same text.

        With no `line_length`, Keras's width for the terminal: min(88, columns - 4) (100 with
        `show_trainable`). `print_fn`, as Keras's, receives the whole text in one call instead of
        stdout. `layer_range=(first, last)` shows those layers, names matched as Keras matches
        them (a regular expression at a name's start); one that matches no layer raises
        ModelError, a `line_length` too narrow for the columns ValueError, as in Keras.
        """
        from mlpcalc.render.keras import keras_summary

        text = keras_summary(
            self,
            line_length,
            _terminal_columns(),
            show_trainable=show_trainable,
            rows=self._rows(layer_range),
        )
        if print_fn is None:
            sys.stdout.write(text)
        else:
            print_fn(text)

    def _repr_html_(self) -> str:
        """The table a notebook shows for Keras's `model.summary()`: Keras's colours, as HTML with
        its styles inline (the text in the notebook's own colour)."""
        from mlpcalc.render.keras import keras_summary_html

        return keras_summary_html(self, console_width=_terminal_columns())

    def diagram(self, **options: Any) -> Diagram:
        """The network drawn as `mlpcalc diagram` draws it, as SVG; `options` are its options:
        theme ("light", "dark"), direction ("horizontal", "vertical"), max_neurons, edges, title."""
        from mlpcalc.render.diagram import Options, diagram_svg

        return Diagram(diagram_svg(self, Options(**options)))

    def _rows(self, layer_range: tuple[str, str] | list[str] | None) -> range | None:
        if layer_range is None:
            return None
        if isinstance(layer_range, str) or len(layer_range) != 2:
            raise ValueError(f"layer_range must be two layer names, (first, last); received {layer_range!r}")
        first, last = layer_range
        selected = self.layer_range(first, last)
        return range(selected.start, selected.stop)


@dataclass(frozen=True)
class Diagram:
    """A drawing of the network: its SVG text, shown by a notebook, saved by `save(path)`."""

    svg: str

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | PathLike[str], *, force: bool = False) -> None:
        """Write the diagram to `path` in the format its extension names: .svg, or .png and .pdf
        (with the images extra), as `mlpcalc diagram -o` does: atomically, through a link, never
        over another kind of file unless `force` (a FileError)."""
        from mlpcalc.core.outputs import output_target, write_bytes
        from mlpcalc.render.diagram import FORMATS, image_bytes

        target = Path(path)
        image_format = target.suffix.lower().lstrip(".")
        if image_format not in FORMATS:
            raise ValueError(f"{target} does not end in .svg, .png or .pdf")
        write_bytes(
            output_target(target, FORMATS[image_format], force=force), image_bytes(self.svg, image_format)
        )


def _terminal_columns() -> int:
    # What Keras sizes its summary by: COLUMNS, else the terminal, else 80 (as in a notebook).
    return shutil.get_terminal_size().columns


def parse(spec: str, *, name: str = core.DEFAULT_NAME, batch: int | None = None) -> Model:
    """Parse a spec into a Model: `parse("784->512->10 relu").total_params == 407050`."""
    return Model(parse_spec(spec), name=name, batch=batch)
