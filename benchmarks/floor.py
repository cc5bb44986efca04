"""The floor mlpcalc's start-up is measured against: a typer app with one command that parses
a spec with str.split and prints a rich Table, the least a tool built on this stack can do.

    python benchmarks/floor.py summary "784->512->10 relu"
"""

import itertools

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False)


@app.callback()
def main() -> None:
    """The floor: typer and rich, nothing else."""


@app.command()
def summary(spec: str) -> None:
    """Print a table of the Dense layers of SPEC (sizes joined by ->)."""
    sizes = [int(size) for size in spec.split(" ")[0].split("->")]
    table = Table("Layer (type)", "Output Shape", "Param #")
    for index, (inputs, units) in enumerate(itertools.pairwise(sizes)):
        table.add_row(f"dense_{index} (Dense)", f"(None, {units})", f"{inputs * units + units:,}")
    Console().print(table)


if __name__ == "__main__":
    app()
