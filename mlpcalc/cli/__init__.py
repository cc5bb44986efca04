"""The `mlpcalc` command: parse arguments, call the core, hand results to render.

base.py is the plumbing (the app, specs from stdin or files, stdout and errors); the
commands are grouped by what they do. Importing them registers them on the app.
"""

from mlpcalc.cli import describe, check, run, export, diagram, completions  # noqa: F401, I001  (registers the commands, in --help order)
from mlpcalc.cli.base import GuardedStdout, app, main

__all__ = ["GuardedStdout", "app", "main"]
