"""Write mlpcalc/cli/command_list.py, the texts of `mlpcalc --help`, from the CLI itself.

    python scripts/generate_command_list.py          # write it
    python scripts/generate_command_list.py --check  # exit 1 if it drifted from the CLI

`mlpcalc --help` into a pipe or a file is drawn from that module without importing typer,
rich or the commands (render/typer_help.py): typer alone takes longer to start than the whole
list takes to draw. The texts are typer's own, taken as plain text from the helpers its help
is drawn with (typer/rich_utils.py's private _get_help_text, _get_parameter_help and
_make_command_help: typer is pinned in pyproject.toml), and the program's name is the console
script's in pyproject.toml. tests/test_plain_help.py fails when the module differs from what
this writes, and when the drawing differs from typer's at any width.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import typer
from typer import rich_utils

from mlpcalc.cli import app
from mlpcalc.render.typer_help import GroupHelp

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "mlpcalc" / "cli" / "command_list.py"
ENTRY_POINT = "mlpcalc.cli:main"
MARKUP = "rich"  # typer's markup mode when rich is installed, mlpcalc's


def group_help() -> GroupHelp:
    """The texts typer's help for mlpcalc's group shows, as plain text."""
    group = typer.main.get_group(app)
    ctx = group.make_context("mlpcalc", ["--help"], resilient_parsing=True)
    usage = group.get_usage(ctx).removeprefix("Usage: mlpcalc ")
    description = "\n".join(
        text.plain for text in rich_utils._get_help_text(obj=group, markup_mode=MARKUP).renderables
    )
    options = []
    for param in group.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        help_parts = rich_utils._get_parameter_help(param=param, ctx=ctx, markup_mode=MARKUP).renderables
        long = [name for name in param.opts if name.startswith("--")]
        short = [name for name in param.opts if not name.startswith("--")]
        # What the drawing knows: a flag with one help text, no negative form, no metavar.
        if param.secondary_opts or len(help_parts) != 1 or not getattr(param, "is_flag", False):
            sys.exit(f"{param.name}: an option render/typer_help.py does not know how to draw")
        options.append((",".join(long), ",".join(short), help_parts[0].plain))
    commands = [
        (
            name,
            rich_utils._make_command_help(
                help_text=command.short_help or command.help or "", markup_mode=MARKUP
            ).plain,
        )
        for name, command in group.commands.items()
    ]
    return GroupHelp(usage, description, tuple(options), tuple(commands))


def program() -> str:
    """The console script's name: what typer's usage line calls the program."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    return next(name for name, entry in scripts.items() if entry == ENTRY_POINT)


def module_text(group: GroupHelp, name: str) -> str:
    """The module, one text a line (a description line a string)."""
    lines = [
        '"""The texts of `mlpcalc --help`, written by scripts/generate_command_list.py from the CLI:',
        'do not edit (render/typer_help.py draws them; tests/test_plain_help.py checks both)."""',
        "",
        "from mlpcalc.render.typer_help import GroupHelp",
        "",
        f"PROGRAM = {name!r}  # the console script: the program typer's usage line names",
        "COMMAND_LIST = GroupHelp(",
        f"    usage={group.usage!r},",
        "    description=(",
        *(f"        {line!r}" for line in group.description.splitlines(keepends=True)),
        "    ),",
        "    options=(",
        *(f"        {option!r}," for option in group.options),
        "    ),",
        "    commands=(",
        *(f"        {command!r}," for command in group.commands),
        "    ),",
        ")",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed module differs")
    args = parser.parse_args()
    text = module_text(group_help(), program())
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT.name} is out of date: run python scripts/generate_command_list.py")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
