"""The `mlpcalc` command: parse arguments, call the core, hand results to render.

base.py is the plumbing (the app, specs from stdin or files, errors), streams.py the
process's streams and signals; the commands are grouped by what they do, and importing a
group's module registers its commands. Start-up is a feature: typer builds every registered
command before it runs one, so `main` registers the command it runs alone (all of them for a
mistyped name), while `app`, for tests and scripts, has them all; the list of commands into a
pipe or a file (`mlpcalc --help`) is drawn from command_list.py without typer at all.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any, NoReturn

from mlpcalc.cli import streams

if TYPE_CHECKING:
    from mlpcalc.cli.base import app

# Each command's module, in --help order (the order the modules register them in).
MODULES = {
    "summary": "describe",
    "variables": "describe",
    "costs": "describe",
    "diff": "describe",
    "spec": "describe",
    "check": "check",
    "compare": "compare",
    "fit": "fit",
    "forward": "run",
    "init": "run",
    "export": "export",
    "diagram": "diagram",
    "completions": "completions",
}
# What may stand before the command: the callback's option, and the end of options.
TOP_LEVEL_WORDS = ("--debug", "--")


def load(command: str | None = None) -> None:
    """Register `command`'s module, or every module (in --help order) for None."""
    modules = [MODULES[command]] if command in MODULES else list(dict.fromkeys(MODULES.values()))
    for module in modules:
        import_module(f"mlpcalc.cli.{module}")


def invoked(arguments: list[str]) -> str | None:
    """The command a command line runs, if it names one before anything else."""
    words = [word for word in arguments if word not in TOP_LEVEL_WORDS]
    return words[0] if words and words[0] in MODULES else None


def main() -> NoReturn:
    """Console-script entry point: the command run, registered alone; the list of commands
    into a pipe or a file drawn without typer."""
    streams.take_over()
    if sys.argv[1:] in (["--help"], ["-h"]):
        _plain_command_list()
    command = invoked(sys.argv[1:])
    load(command)
    from mlpcalc.cli import base

    if command is not None:  # its module's other commands are not built
        base.app.registered_commands = [
            info for info in base.app.registered_commands if base.command_name(info) == command
        ]
    else:  # the list of commands (or an error naming one): their names and help, not their options
        base.app.registered_commands = [base.listed(info) for info in base.app.registered_commands]
    base.main()


def _plain_command_list() -> None:
    """`mlpcalc --help` as typer prints it where nothing is coloured, then exit; back to typer
    for a terminal, what typer's help reads from the environment (colours, its own width, no
    rich), an output that is not UTF-8, another program name (`python -m mlpcalc`), Windows,
    or a drawing only rich knows."""
    if streams.may_be_terminal(streams.TYPER_HELP_VARIABLES) or streams.ascii_only():
        return
    from mlpcalc.cli.command_list import COMMAND_LIST, PROGRAM
    from mlpcalc.render.typer_help import plain_help

    if sys.platform == "win32" or os.path.basename(sys.argv[0]) != PROGRAM:  # typer's usage line names it
        return
    if f"_{PROGRAM}_COMPLETE".upper() in os.environ:  # click's shell-completion mode, not help
        return
    text = plain_help(COMMAND_LIST, PROGRAM, streams.rich_width())
    if text is not None:
        streams.emit(text)
        sys.exit(0)


def __getattr__(name: str) -> Any:
    """`app` with every command, on first use."""
    if name == "app":
        load()
        from mlpcalc.cli import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "load", "main"]
