"""Plain-text and markdown views: the variables table, the markdown summary."""

from __future__ import annotations

from mlpcalc.core.model import Model, Variable
from mlpcalc.costs.figures import Figures
from mlpcalc.render.formats import cost_cells, readable_size, shape_text

# ------------------------------------------------------------------ variables


def variables_table(model: Model) -> str:
    """One line per variable: name, shape, trainable, count; totals last."""
    variables = model.variables
    rows = [("Variable", "Shape", "Trainable", "Count")]
    rows += [(v.path, shape_text(v.shape), "yes" if v.trainable else "no", f"{v.count:,}") for v in variables]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        f"{name:<{widths[0]}}  {shape:<{widths[1]}}  {trainable:<{widths[2]}}  {count:>{widths[3]}}".rstrip()
        for name, shape, trainable, count in rows
    ]
    lines.append(
        f"{len(variables)} variables, {model.total_params:,} parameters "
        f"({model.trainable_params:,} trainable, {model.non_trainable_params:,} non-trainable)"
    )
    return "\n".join(lines) + "\n"


def classic_variables(model: Model) -> str:
    """What TF 2 prints for `for p in model.trainable_variables: print(p.name, p.shape)`."""
    return "".join(_classic_variable(v) for v in model.variables if v.trainable)


def _classic_variable(variable: Variable) -> str:
    return f"{variable.path}:0 {shape_text(variable.shape)}\n"


# ------------------------------------------------------------------ markdown


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def markdown_summary(
    figures: Figures, costs: bool = False, *, show_trainable: bool = False, rows: range | None = None
) -> str:
    """A GitHub-flavoured markdown table of the summary, for pull requests and READMEs: with
    Keras's Trainable column (`show_trainable`), of the layers of Keras's layer_range (`rows`)."""
    model = figures.model
    lines = [f'**Model: "{_cell(model.name)}"** `{model.spec}`', ""]
    extra = cost_cells(figures) if costs else {}
    headers = ["Layer (type)", "Output Shape", "Param #", *(["Trainable"] if show_trainable else []), *extra]
    aligns = [":---", ":---", "---:", *([":---:"] if show_trainable else []), *("---:" for _ in extra)]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("| " + " | ".join(aligns) + " |")
    for index in rows if rows is not None else range(len(model.layers)):
        layer = model.layers[index]
        cells = [f"{layer.name} ({layer.keras_class})", shape_text(layer.output_shape), f"{layer.params:,}"]
        if show_trainable:  # as Keras: Y with weights (a spec freezes none), - without
            cells.append("Y" if layer.variables else "-")
        cells += [column[index] for column in extra.values()]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [
        f"- {label}: {count:,} ({readable_size(size)})" for label, count, size in figures.keras_totals()
    ]
    return "\n".join(lines) + "\n"
