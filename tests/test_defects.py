"""Defects found by trying mlpcalc as a hostile and as a new user would: each reproduced here
first, then fixed. Grouped as the issue lists them."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_cli import run

# ---------------------------------------------------------------- a spec is a spec, whatever it starts with


@pytest.mark.parametrize(
    "args",
    [
        ["check", "->512:tanh", "--max-params", "1", "--json"],  # its h was read as -h: help, exit 0
        ["forward", "->10:softmax"],  # its o and q were read as -o and -q
        ["summary", "->10", "--json"],
        ["variables", "-5->3"],
        ["costs", "--batch", "2", "->h"],
        ["init", "->q", "-o", "never-written.npz"],
        ["diff", "3->2", "->h"],
    ],
)
def test_a_spec_starting_with_a_dash_is_a_spec(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: invalid spec: ")
    assert "Usage:" not in result.stderr


def test_options_still_work_around_a_dashed_spec() -> None:
    result = run("summary", "--name", "-x", "3->2", "--json")  # an option's value may start with '-'
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "-x"
    both = run("diff", "->3", "3->2")  # the order of the two specs is kept: A is the bad one
    assert both.exit_code == 2 and "  ->3\n" in both.stderr


def test_a_mistyped_option_is_still_an_option() -> None:
    result = run("summary", "3->2", "--jsn")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No such option: --jsn. Did you mean --json?")


def test_debug_is_accepted_after_the_command() -> None:
    result = run("summary", "3->2", "--name", "a/b", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "ModelError" in result.stderr


# ---------------------------------------------------------------- outputs never destroy what they should not


def _weights(tmp_path: Path) -> Path:
    assert run("init", "3->2", "-o", str(tmp_path / "w.npz")).exit_code == 0
    return tmp_path / "w.npz"


def test_forward_output_may_not_be_its_weights(tmp_path: Path) -> None:
    weights = _weights(tmp_path)
    before = weights.read_bytes()
    result = run("forward", "3->2", "--weights", str(weights), "-o", str(weights))
    assert result.exit_code == 2
    assert "which the output would destroy" in result.stderr
    assert weights.read_bytes() == before
    link = tmp_path / "link.npz"
    link.symlink_to(weights)  # the same file by another name
    assert run("forward", "3->2", "--weights", str(weights), "-o", str(link), "--force").exit_code == 2
    assert weights.read_bytes() == before


@pytest.mark.parametrize(
    ("command", "existing"),
    [
        (["init", "3->2"], "array.npy"),  # init writes an archive: an existing array is kept
        (["forward", "3->2"], "weights.npz"),  # forward writes an array: an existing archive is kept
        (["forward", "3->2"], "notes.txt"),
        (["init", "3->2"], "notes.txt"),
    ],
)
def test_an_existing_file_of_another_kind_is_kept_unless_forced(
    tmp_path: Path, command: list[str], existing: str
) -> None:
    path = tmp_path / existing
    if existing.endswith(".npy"):
        np.save(path, np.ones(3))
    elif existing.endswith(".npz"):
        np.savez(path, a=np.ones(3))
    else:
        path.write_text("my notes\n")
    before = path.read_bytes()
    refused = run(*command, "-o", str(path))
    assert refused.exit_code == 2
    assert "give --force to replace it" in refused.stderr
    assert path.read_bytes() == before
    forced = run(*command, "-o", str(path), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert path.read_bytes() != before


def test_an_earlier_output_or_an_empty_file_is_replaced(tmp_path: Path) -> None:
    output = tmp_path / "y.npy"
    assert run("forward", "3->2", "-o", str(output), "--seed", "1").exit_code == 0
    first = output.read_bytes()
    assert run("forward", "3->2", "-o", str(output), "--seed", "2").exit_code == 0
    assert output.read_bytes() != first
    empty = tmp_path / "empty.npz"
    empty.touch()  # as mktemp leaves it
    assert run("init", "3->2", "-o", str(empty)).exit_code == 0
    assert empty.stat().st_size > 0


def test_output_through_a_symlink_writes_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.npy"
    np.save(target, np.zeros(1))
    link = tmp_path / "link.npy"
    link.symlink_to(target)
    assert run("forward", "3->2", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.load(target).shape == (4, 2)
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "new.npz")
    assert run("init", "3->2", "-o", str(dangling)).exit_code == 0
    assert dangling.is_symlink() and (tmp_path / "new.npz").is_file()


def test_output_to_a_pipe_is_refused_and_stays_a_pipe(tmp_path: Path) -> None:
    # As root, `-o /dev/stdout` replaced /dev/stdout with a regular file.
    result = subprocess.run(
        [sys.executable, "-m", "mlpcalc", "forward", "3->2", "-o", "/dev/stdout"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "not a regular file" in result.stderr
    assert Path("/dev/stdout").is_symlink()
    with (tmp_path / "out").open("w") as stdout:  # stdout a regular file: written through the link
        code = subprocess.call(
            [sys.executable, "-m", "mlpcalc", "forward", "3->2", "-o", "/dev/stdout", "--force", "-q"],
            stdout=stdout,
        )
    assert code == 0
    assert Path("/dev/stdout").is_symlink()
    assert np.load(tmp_path / "out").shape == (4, 2)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert run("init", "3->2", "-o", str(fifo)).exit_code == 2
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_outputs_get_the_umask_mode_and_keep_an_existing_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert run("init", "3->2", "-o", str(tmp_path / "w.npz")).exit_code == 0
        assert run("forward", "3->2", "-o", str(tmp_path / "y.npy")).exit_code == 0
        os.umask(0o077)
        os.chmod(tmp_path / "y.npy", 0o640)
        assert run("forward", "3->2", "-o", str(tmp_path / "y.npy")).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "w.npz").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "y.npy").stat().st_mode) == 0o640


def test_force_needs_an_output() -> None:
    result = run("forward", "3->2", "--force")
    assert result.exit_code == 2
    assert "--force" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_forward_leaves_no_partial_file(tmp_path: Path, signum: int) -> None:
    output = tmp_path / "y.npy"
    command = ["forward", "512->2048*4->512", "--batch", "100000", "-o", str(output)]  # minutes of work
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpcalc", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".y.npy.*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the partial file exists: the pass is under way
    assert list(tmp_path.glob(".y.npy.*.part")), "the forward pass never started writing"
    process.send_signal(signum)
    process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------- user text never reaches a log or terminal raw

HOSTILE_NAMES = [
    "ok\n::error file=README.md,line=1::injected",
    "::stop-commands::token",
    "  ::warning::x",
    "##[error]v1 command",
    "red\x1b[31m text",
    "bell\x07 and \r return",
    "right\u202eto left",
]


def _no_workflow_command_but_ours(text: str) -> None:
    for line in text.splitlines():
        if line.lstrip().startswith("::"):
            assert line.startswith("::error file=") and ",title=mlpcalc check::" in line, line
        assert "##[" not in line, line
        assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line, line


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("output", [[], ["--json"]])
def test_budget_names_are_escaped_everywhere(tmp_path: Path, name: str, output: list[str]) -> None:
    config = tmp_path / "mlpcalc.toml"
    config.write_text(f'[models.{json.dumps(name)}]\nspec = "3->2"\nmax_params = 1\n')
    result = run(
        "check", "--config", str(config), *output, GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(tmp_path)
    )
    assert result.exit_code == 1
    _no_workflow_command_but_ours(result.stdout)
    _no_workflow_command_but_ours(result.stderr)
    assert "\r" not in result.stdout + result.stderr
    if output:  # JSON keeps the name exactly, escaped as JSON escapes it
        assert json.loads(result.stdout)["models"][0]["name"] == name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_in_budget_errors_are_escaped(tmp_path: Path, name: str) -> None:
    config = tmp_path / "mlpcalc.toml"
    config.write_text(f'[models.{json.dumps(name)}]\nspec = "3->2"\nmax_parms = 1\n')
    result = run("check", "--config", str(config), GITHUB_ACTIONS="true")
    assert result.exit_code == 2
    _no_workflow_command_but_ours(result.stderr)
    assert result.stderr.count("\n") == 2  # the error and its annotation, one line each


@pytest.mark.parametrize("name", ["new\nline", "::error::x", "esc\x1b[2J"])
def test_paths_in_file_errors_are_escaped(tmp_path: Path, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    for args in (
        ["forward", "3->2", "--weights", str(folder / "w.npz")],
        ["forward", "3->2", "--input", str(folder / "x.npy")],
        ["init", "3->2", "-o", str(folder / "missing" / "w.npz")],
        ["summary", f"@{folder / 'spec'}"],
        ["check", "--config", str(folder / "mlpcalc.toml")],
    ):
        result = run(*args)
        assert result.exit_code == 2, args
        _no_workflow_command_but_ours(result.stderr)
        assert result.stderr.count("\n") <= 2, result.stderr


def test_keys_of_a_weights_file_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    np.savez(path, **{"::error::x": np.ones(1), "esc\x1b[2J": np.ones(1)})
    result = run("forward", "3->2", "--weights", str(path))
    assert result.exit_code == 2
    _no_workflow_command_but_ours(result.stderr)


# ---------------------------------------------------------------- one vocabulary of units

MNIST = "784->512->10 relu"  # 407,050 float32 weights: 1,628,200 B, which Keras prints as "1.55 MB"


@pytest.mark.parametrize(
    ("limit", "code"),
    [
        ("1.6 MiB", 0),  # 1.6 x 1024**2 = 1,677,721.6, down to 1,677,721 B: holds
        ("1.55 MiB", 1),  # 1,625,292.8 B < 1,628,200 B
        ("1.63 MB", 0),  # 1,630,000 B: MB is 1000**2
        ("1.62 MB", 1),
        ("1628200", 0),
        ("1628199 B", 1),
        ("1.5529 mib", 0),  # 1,628,331.6 B, units in any case
    ],
)
def test_sizes_in_both_vocabularies(limit: str, code: int) -> None:
    assert run("check", MNIST, "--max-weights-bytes", limit).exit_code == code


@pytest.mark.parametrize(
    ("limit", "code"),
    [("1M", 0), ("0.5M", 0), ("0.4M", 1), ("407.05K", 0), ("407.049K", 1), ("1e6", 0), ("1_000_000", 0)],
)
def test_counts_with_suffixes(limit: str, code: int) -> None:
    assert run("check", MNIST, "--max-params", limit).exit_code == code


@pytest.mark.parametrize(
    ("limit", "reason"),
    [("1.2345K", "expected a whole number"), ("1 MiB", "expected a whole number"), ("lots", "write 1000000")],
)
def test_counts_refused(limit: str, reason: str) -> None:
    result = run("check", MNIST, "--max-params", limit)
    assert result.exit_code == 2
    assert reason in result.stderr


def test_budget_files_take_the_same_units(tmp_path: Path) -> None:
    config = tmp_path / "mlpcalc.toml"
    config.write_text(
        f'[models.m]\nspec = "{MNIST}"\nmax_params = "1M"\nmax_macs = "0.5G"\nmax_weights_bytes = "1.6 MiB"\n'
    )
    assert run("check", "--config", str(config)).exit_code == 0


def test_mlpcalc_says_mib_and_keras_table_keeps_mb() -> None:
    assert " (1.55 MB)" in run("summary", MNIST).stdout  # Keras's own text
    costs = run("costs", MNIST).stdout
    assert "1.55 MiB" in costs and " MB" not in costs
    diff = run("diff", MNIST, "784->256->10 relu").stdout
    assert "1.55 MiB" in diff and " MB" not in diff


# ---------------------------------------------------------------- crashes become exit 2 with a reason

HUGE = "9" * 5000


@pytest.mark.parametrize(
    "args",
    [
        ["check", MNIST, "--output-shape", "²"],
        ["check", MNIST, "--output-shape", HUGE, "--json"],
        ["check", MNIST, "--max-weights-bytes", HUGE, "--json"],
        ["check", MNIST, "--max-params", HUGE, "--json"],
        ["check", MNIST, "--max-params", "1e999999"],
    ],
)
def test_odd_limits_are_usage_errors(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.exception
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and len(result.stderr) < 400


@pytest.mark.parametrize("value", ['["adam"]', "{ name = 1 }", "3", "true"])
def test_odd_settings_in_budget_files_are_usage_errors(tmp_path: Path, value: str) -> None:
    config = tmp_path / "mlpcalc.toml"
    config.write_text(f'[models.m]\nspec = "3->2"\nmax_params = 10\noptimizer = {value}\n')
    result = run("check", "--config", str(config))
    assert result.exit_code == 2, result.exception
    assert "optimizer: expected one of" in result.stderr


# -------------------------------------------------------------- streams and files that are not what they seem


def _real(*args: str, stdin: object = subprocess.DEVNULL) -> tuple[int, str, str]:
    """mlpcalc in a real process, through a shell so that streams can be closed."""
    command = " ".join(
        f"'{arg}'" if i < 3 else arg for i, arg in enumerate((sys.executable, "-m", "mlpcalc", *args))
    )
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=False, stdin=stdin, timeout=120
    )
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["summary", "'3->2'", ">&-"], 0),
        (["check", "'3->2'", "--max-params", "1", ">&-"], 1),  # the verdict is kept
        (["summary", "'3->2'", "2>&-"], 0),
        (["summary", "'3->'", "2>&-"], 2),
        (["summary", "-", "<&-"], 2),
    ],
)
def test_closed_streams_are_quiet_with_the_right_code(args: list[str], code: int) -> None:
    returncode, _, stderr = _real(*args)
    assert returncode == code
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_closed_stdin_says_so() -> None:
    returncode, stdout, stderr = _real("summary", "-", "<&-")
    assert returncode == 2 and stdout == ""
    assert "stdin is closed" in stderr


@pytest.mark.parametrize(
    "args", [["summary", "@/dev/zero"], ["check", "--config", "/dev/zero"], ["summary", "-", "</dev/zero"]]
)
def test_unbounded_inputs_are_refused(args: list[str]) -> None:
    returncode, _, stderr = _real(*args)  # an unbounded read would never end (the run has a timeout)
    assert returncode == 2
    assert "longer than" in stderr


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "model.spec").write_bytes("\ufeff784->512->10 relu\r\n".encode())
    result = run("summary", f"@{tmp_path / 'model.spec'}", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 784 * 512 + 512 + 512 * 10 + 10
    (tmp_path / "mlpcalc.toml").write_bytes('\ufeff[models.m]\nspec = "3->2"\nparams = 8\n'.encode())
    assert run("check", "--config", str(tmp_path / "mlpcalc.toml")).exit_code == 0


def _long_header_npy(path: Path) -> None:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " " * 20_000 + "\n"
    path.write_bytes(b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header.encode() + bytes(24))


@pytest.mark.parametrize(
    ("make", "option", "reason"),
    [
        (lambda p: p.write_bytes(b"PK not a zip at all"), "--weights", "it starts as a zip archive"),
        (_long_header_npy, "--input", "header is longer than numpy reads safely"),
        (lambda p: np.save(p, np.array([[1, None, 3]], dtype=object)), "--input", "holds Python objects"),
        (
            lambda p: np.savez(p, **{"dense/kernel": np.array([None] * 6).reshape(3, 2)}),
            "--weights",
            "objects",
        ),
    ],
)
def test_files_are_called_what_they_are(tmp_path: Path, make: Any, option: str, reason: str) -> None:
    path = tmp_path / ("w.npz" if option == "--weights" else "x.npy")
    make(path)
    result = run("forward", "3->2", option, str(path))
    assert result.exit_code == 2
    assert reason in result.stderr
    assert "pickled" not in result.stderr


def test_a_huge_extra_member_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # An archive whose unexpected member would take 2 GiB to load: refused from its directory.
    path = tmp_path / "w.npz"
    assert run("init", "3->2", "-o", str(path)).exit_code == 0
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("extra.npy", "w", force_zip64=True) as member,
    ):
        np.lib.format.write_array_header_2_0(
            member, {"descr": "<f4", "fortran_order": False, "shape": (2**29,)}
        )
        zeros = bytes(2**24)
        for _ in range(2**31 // len(zeros)):
            member.write(zeros)
    # A child's peak memory counts what it held before exec: a copy of its parent's. pytest's
    # process grows as the suite runs, so a small launcher starts the command and reports its peak.
    launcher = (
        "import os, subprocess, sys\n"
        "process = subprocess.Popen(sys.argv[1:], stderr=subprocess.PIPE, text=True)\n"
        "_, status, usage = os.wait4(process.pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, process.stderr.read())\n"
    )
    command = [sys.executable, "-m", "mlpcalc", "forward", "3->2", "--weights", str(path)]
    report = subprocess.run(
        [sys.executable, "-c", launcher, *command], capture_output=True, text=True, check=True
    )
    code, peak, stderr = report.stdout.split(" ", 2)
    assert int(code) == 2
    assert "unexpected extra: the model has no such variable" in stderr
    assert int(peak) < 200 * 1024  # KiB: the 2 GiB member was never loaded


# -------------------------------------------------------------- limits refuse at once (benchmarks/limits.py)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("784" + "->10" * 20_000, "more than 10,000 layers"),
        ("784->10*5000->10*5001", "more than 10,000 layers"),
        ("x".join(["1"] * 40) + "->10", "at most 32 dimensions"),
        ("x".join(["1000000000000000"] * 300) + "->10", "at most 32 dimensions"),
        ("x".join(["1000000000000000"] * 3) + "->10", "values per sample"),
    ],
)
@pytest.mark.parametrize("command", ["summary", "costs", "check", "diff", "forward"])
def test_oversized_specs_are_refused(command: str, spec: str, reason: str) -> None:
    args = {"check": ["--max-params", "1"], "diff": ["3->2"]}.get(command, [])
    result = run(command, spec, *args)
    assert result.exit_code == 2, result.exception
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("rank", [1, 31, 32])
def test_high_ranks_within_the_limit_run(rank: int) -> None:
    spec = "x".join(["1"] * rank) + "->2"
    result = run("forward", spec, "--json")
    assert result.exit_code == 0, result.exception
    assert json.loads(result.stdout)["output_shape"] == [4] + [1] * (rank - 1) + [2]


def test_forward_states_its_estimated_peak() -> None:
    small = json.loads(run("forward", "3->2", "--json").stdout)["estimated_peak_bytes"]
    big = json.loads(run("forward", "784->4096->10", "--batch", "5000", "--json").stdout)[
        "estimated_peak_bytes"
    ]
    # The larger run adds at least its float32 weights and a buffer of 5,000 rows of 4,096.
    assert big - small >= 4 * (784 * 4096 + 4096 * 10) + 4 * 5000 * 4096


# ---------------------------------------------------------------- what the machine refuses is a usage error


@pytest.fixture
def as_nobody(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A folder, and a context in which this process checks files as the user nobody would
    (its effective uid), as root could not: a read-only folder is read-only to nobody."""
    import contextlib

    import mlpcalc.budgets
    import mlpcalc.cli.progress
    import mlpcalc.engine.run
    import mlpcalc.render.check
    import mlpcalc.render.forward  # noqa: F401  # imported now: nobody cannot read the sources

    folder = Path(tempfile.mkdtemp(prefix="nobody-", dir="/tmp"))
    os.chmod(folder, 0o777)

    @contextlib.contextmanager
    def switched() -> Any:
        if os.geteuid() != 0:  # already not root: the checks hold as they are
            yield
            return
        os.seteuid(65534)
        try:
            yield
        finally:
            os.seteuid(0)

    yield folder, switched
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def test_refused_files_are_usage_errors_for_a_normal_user(as_nobody: Any) -> None:
    folder, switched = as_nobody
    (folder / "ro").mkdir(mode=0o555)
    os.chmod(folder / "ro", 0o555)
    assert run("init", "3->2", "-o", str(folder / "w.npz")).exit_code == 0
    os.chmod(folder / "w.npz", 0o000)
    (folder / "budgets.toml").write_text('[models.m]\nspec = "3->2"\nparams = 8\n')
    os.chmod(folder / "budgets.toml", 0o000)
    cases = [
        (["init", "3->2", "-o", str(folder / "ro" / "w.npz")], "Permission denied"),
        (["forward", "3->2", "-o", str(folder / "ro" / "y.npy")], "Permission denied"),
        (["forward", "3->2", "--weights", str(folder / "w.npz")], "Permission denied"),
        (["forward", "3->2", "--input", str(folder / "w.npz")], "Permission denied"),
        (["summary", f"@{folder / 'w.npz'}"], "Permission denied"),
        (["check", "--config", str(folder / "budgets.toml")], "Permission denied"),
        (["init", "3->2", "-o", str(folder / ("a" * 300 + ".npz"))], "File name too long"),
    ]
    with switched():
        results = [(run(*args), reason) for args, reason in cases]
    for result, reason in results:
        assert result.exit_code == 2, (result.exception, result.stderr)
        assert reason in result.stderr
    assert list((folder / "ro").iterdir()) == []


def test_statistics_of_huge_values(tmp_path: Path) -> None:
    # float64 inputs of 1e155: their squares overflow a float64 (it ended in exit 70, the output written).
    np.save(tmp_path / "x.npy", np.full((4, 3), 1e155))
    options = ("--input", str(tmp_path / "x.npy"), "--dtype", "float64", "-o", str(tmp_path / "y.npy"))
    result = run("forward", "3->3", *options, "--json")
    assert result.exit_code == 0, result.exception
    stats = json.loads(result.stdout)["output_stats"]
    scaled = np.load(tmp_path / "y.npy") / 1e155  # numpy's own statistics, away from the overflow
    assert stats["mean"] == pytest.approx(scaled.mean() * 1e155, rel=1e-12)
    assert stats["std"] == pytest.approx(scaled.std() * 1e155, rel=1e-9)
    np.save(tmp_path / "edge.npy", np.array([[1.7e308, -1.7e308, 1e308]]))
    edge = run("forward", "3->3:relu", "--input", str(tmp_path / "edge.npy"), "--dtype", "float64", "--stats")
    assert edge.exit_code == 0, edge.exception


# ------------------------------------------------------ budget files in any folder, as pre-commit hands them


def _hook() -> dict[str, Any]:
    import re as regex

    text = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    fields = dict(regex.findall(r"^\s+(\w+): (.+)$", text, flags=regex.M))
    assert text.count("- id: ") == 1
    return fields


def test_the_hook_passes_the_changed_budget_files() -> None:
    hook = _hook()
    assert hook["entry"] == "mlpcalc check" and hook["pass_filenames"] == "true"
    import re as regex

    pattern = regex.compile(hook["files"])
    for changed in ("mlpcalc.toml", "sub/mlpcalc.toml", "models/deep/pyproject.toml", "pyproject.toml"):
        assert pattern.search(changed), changed
    for unrelated in ("README.md", "mlpcalc.toml.bak", "src/model.py"):
        assert not pattern.search(unrelated), unrelated


def test_check_takes_the_budget_files_a_hook_hands_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failing budget in a subfolder used to pass (never read); budgets only in models/ used to
    # block every commit (none found from the root).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no budgets: passed over
    (tmp_path / "sub" / "mlpcalc.toml").write_text('[models.big]\nspec = "784->512->10"\nmax_params = 1000\n')
    (tmp_path / "models" / "mlpcalc.toml").write_text('[models.ok]\nspec = "3->2"\nparams = 8\n')
    assert run("check", "models/mlpcalc.toml", "pyproject.toml").exit_code == 0
    failing = run("check", "pyproject.toml", "sub/mlpcalc.toml", "models/mlpcalc.toml", "--json")
    assert failing.exit_code == 1
    document = json.loads(failing.stdout)
    assert [model["name"] for model in document["models"]] == ["big", "ok"]
    assert [model["ok"] for model in document["models"]] == [False, True]
    assert document["source"] == "pyproject.toml, sub/mlpcalc.toml, models/mlpcalc.toml"
    # A hook may hand over only pyproject.toml files without budgets: nothing to check, exit 0.
    for files in (["pyproject.toml"], ["pyproject.toml", "sub2/pyproject.toml"]):
        (tmp_path / "sub2").mkdir(exist_ok=True)
        (tmp_path / "sub2" / "pyproject.toml").write_text('[project]\nname = "y"\n')
        nothing = run("check", *files)
        assert (nothing.exit_code, nothing.stdout) == (
            0,
            f"{', '.join(files)}: no budgets, nothing to check\n",
        )
        assert json.loads(run("check", *files, "--json").stdout)["models"] == []
    named = run("check", "--config", "pyproject.toml")  # asked for by name, it must hold budgets
    assert named.exit_code == 2 and "nothing to check" in named.stderr


def test_annotations_are_relative_to_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mlpcalc.toml").write_text('[models.big]\nspec = "784->512->10"\nmax_params = 1000\n')
    monkeypatch.chdir(tmp_path / "sub")  # run from a subfolder
    result = run("check", "mlpcalc.toml", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(tmp_path))
    assert result.exit_code == 1
    assert "::error file=sub/mlpcalc.toml,line=3," in result.stderr


def test_a_forgotten_quote_gets_a_hint(tmp_path: Path) -> None:
    # What the shell does to `mlpcalc summary 784->512->10`: mlpcalc sees "784-", and the shell
    # creates files named 512- and 10 (stdout goes to the last).
    result = subprocess.run(
        ["bash", "-c", f"cd '{tmp_path}' && '{sys.executable}' -m mlpcalc summary 784->512->10"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Quote the spec" in result.stderr and "redirection" in result.stderr


@pytest.mark.parametrize("command", ["costs", "forward"])
def test_the_flatten_note_shows_wherever_the_model_is_described(command: str) -> None:
    # 28x28->128->10: each Dense acts on the last axis (Keras allows it); the note says so.
    text = run(command, "28x28->128->10")
    assert text.exit_code == 0
    assert text.stderr.startswith("Note: dense acts on the last axis")
    assert "28x28->flatten->128" in text.stderr
    document = run(command, "28x28->128->10", "--json")
    assert document.stderr == ""
    assert json.loads(document.stdout)["notes"][0].startswith("dense acts on the last axis")
    assert run(command, "28x28->flatten->128->10").stderr == ""


def test_the_help_has_the_spec_cheatsheet_and_each_line_parses() -> None:
    from mlpcalc.cli.base import SPEC_CHEATSHEET
    from mlpcalc.core.activations import KINDS
    from mlpcalc.core.spec import parse_spec

    for command in ([], ["summary"]):
        shown = run(*command, "--help", columns=100).stdout
        assert "Spec language (docs/spec.md):" in shown and "28x28->flatten->10" in shown
    examples = [line.strip().split("  ")[0] for line in SPEC_CHEATSHEET.splitlines() if line[2:3].isdigit()]
    assert len(examples) == 8
    for example in examples:
        parse_spec(example)  # raises if the cheat-sheet teaches a spec that does not parse
    assert all(name in SPEC_CHEATSHEET for name in KINDS)


@pytest.mark.parametrize("columns", [80, 100])
def test_summary_costs_fits_the_terminal(columns: int) -> None:
    # The cost columns were added to Keras's 88 or 76: 111 columns in an 80-column terminal.
    result = run("summary", "784->512->10 relu", "--costs", "--batch", "100000", columns=columns)
    assert result.exit_code == 0
    assert max(map(len, result.stdout.splitlines())) <= columns
    assert "401,408" in result.stdout.split() or "401,408" in result.stdout.replace("│", " ").split()
    wide = run("summary", "784->512->10 relu", "--costs", columns=200)  # room for Keras's 88 and the costs
    plain = run("summary", "784->512->10 relu", columns=200)
    assert wide.stdout.splitlines()[1].startswith(plain.stdout.splitlines()[1][:-1])  # Keras's part intact
    forced = run("summary", "784->512->10 relu", "--costs", "--width", "88", columns=80)  # --width forces
    assert max(map(len, forced.stdout.splitlines())) > 80


def test_progress_moves_within_a_chunk() -> None:
    # One chunk of 8 rows through two Dense layers of equal MACs (16 x 16 each): the display hears
    # 0 (weights ready), then half the rows after the first layer, all after the second.
    from mlpcalc.core.model import parse
    from mlpcalc.engine.run import run_forward

    heard: list[float] = []
    run_forward(parse("16->16->16"), rows=8, chunk=8, progress=lambda done, total: heard.append(done))
    assert heard[:3] == [0, 4.0, 8.0] and heard[-1] == 8


# ---------------------------------------------------------------- found by review


def test_an_ignored_sighup_stays_ignored(tmp_path: Path) -> None:
    # `nohup mlpcalc forward ... -o out.npy &`: a later SIGHUP must not end the run nor delete its output.
    command = ["forward", "256->1024*4->256", "--batch", "20000", "-o", str(tmp_path / "y.npy")]
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpcalc", *command],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".y.npy.*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGHUP)
    assert process.wait(timeout=120) == 0
    assert np.load(tmp_path / "y.npy").shape == (20000, 256)


def test_output_statistics_are_of_the_stored_output() -> None:
    # float16 stores inf where the float32 computation did not overflow: --stats reported inf 0.
    for extra in ([], ["--stats"]):
        result = run("forward", "4->4", "--init", "orthogonal", "--dtype", "float16", "--json", *extra)
        assert result.exit_code == 0
    x = [60000.0, 60000.0, 60000.0, 60000.0]
    path = Path(tempfile.mkdtemp()) / "x.npy"
    np.save(path, np.array([x], dtype=np.float32))
    plain = run("forward", "4->4:relu", "--input", str(path), "--dtype", "float16", "--json")
    stats = run("forward", "4->4:relu", "--input", str(path), "--dtype", "float16", "--json", "--stats")
    assert json.loads(plain.stdout)["output_stats"] == json.loads(stats.stdout)["output_stats"]
    stored = json.loads(stats.stdout)["output_stats"]
    assert stored["max"] is None or stored["max"] <= float(np.finfo(np.float16).max)


def test_a_closed_stderr_loses_no_result() -> None:
    # stderr a pipe whose reader has gone: the note raised BrokenPipeError and the result was lost.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mlpcalc", "summary", "28x28->10"],
            stdout=subprocess.PIPE, stderr=writer, text=True, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert result.returncode == 0
    assert "(None, 28, 10)" in result.stdout


def test_the_quote_hint_only_for_a_spec_the_shell_cut() -> None:
    quoted = run("summary", "784->512->10 relu-")  # quoted, it holds its '>': no shell cut it
    assert quoted.exit_code == 2 and "Quote the spec" not in quoted.stderr


def test_a_huge_negative_limit_says_negative(tmp_path: Path) -> None:
    (tmp_path / "mlpcalc.toml").write_text(f'[models.m]\nspec = "3->2"\nmax_params = -{10**90}\n')
    result = run("check", "--config", str(tmp_path / "mlpcalc.toml"))
    assert result.exit_code == 2
    assert "non-negative" in result.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completions_json_has_its_schema(shell: str) -> None:
    import jsonschema
    from test_cli import schema

    document = json.loads(run("completions", shell, "--json").stdout)
    jsonschema.validate(document, schema("completions"))
    assert document["script"] == run("completions", shell).stdout


def test_a_flatten_is_a_view_in_the_inference_peak() -> None:
    from mlpcalc.core.model import parse
    from mlpcalc.costs.memory import memory_report
    from mlpcalc.costs.settings import Settings

    # 28x28 -> flatten (784, the same values) -> Dense 10: the peak is the Dense's 784 in and 10 out.
    report = memory_report(parse("28x28->flatten->10"), Settings(batch=1000))
    assert report.inference_activations == 1000 * (784 + 10) * 4


# ---------------------------------------------------------------- found by fuzzing (tests/test_fuzz.py)


@pytest.mark.parametrize(
    "args",
    [
        ["summary", "3->2", "a\u202eb"],  # a usage error echoing a bidi override
        ["costs", "3->2", "--batch", "##[x]"],  # ... and a GitHub command
        ["summary", "::error::x"],  # the spec echoed under its error
        ["summary", "3->2->##[error]x"],
        ["summary", "3->2", "--name", "##[error]"],
        ["check", "3->2", "--max-flops", "##[x]"],
    ],
)
def test_no_workflow_command_or_bidi_in_errors(args: list[str]) -> None:
    result = run(*args, GITHUB_ACTIONS="true")
    assert result.exit_code == 2
    for line in (result.stdout + result.stderr).splitlines():
        assert "##[" not in line and "\u202e" not in line, line
        assert not line.lstrip().startswith("::") or line.startswith("::error "), line


@pytest.mark.parametrize(
    "args",
    [
        ["summary", "3->4->2", "--layer-range", "a{9999999999}", "dense"],
        ["summary", "3->4->2", "--layer-range", "(" * 1000 + ")" * 1000, "dense"],
    ],
)
def test_odd_layer_range_patterns_are_usage_errors(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.exception
    assert "not a regular expression" in result.stderr


def test_a_toml_integer_past_pythons_digit_limit(tmp_path: Path) -> None:
    (tmp_path / "mlpcalc.toml").write_text(f'[models.m]\nspec = "3->2"\nmax_params = {"9" * 5000}\n')
    result = run("check", "--config", str(tmp_path / "mlpcalc.toml"))
    assert result.exit_code == 2, result.exception
    assert "not valid TOML" in result.stderr


def test_a_damaged_npy_header_is_a_usage_error(tmp_path: Path) -> None:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((2, 1), np.float32))
    (tmp_path / "in.npy").write_bytes(buffer.getvalue().replace(b"{", b"z", 1))
    result = run("forward", "1->1", "--input", str(tmp_path / "in.npy"))
    assert result.exit_code == 2, result.exception
    assert "damaged .npy header" in result.stderr


def test_help_on_an_ascii_only_narrow_terminal() -> None:
    from typer.testing import CliRunner

    from mlpcalc.cli import app

    result = CliRunner(charset="ascii").invoke(app, ["diff", "--help"], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.exception
    assert "Usage: mlpcalc diff" in result.stdout


def test_a_bare_at_sign_names_no_file() -> None:
    """`mlpcalc summary @` said "cannot read the spec from : Is a directory" (the empty path
    shown as nothing, and the current directory tried as a file)."""
    result = run("summary", "@")
    assert result.exit_code == 2, result.exception
    assert "'@' names no file" in result.stderr
    assert "from :" not in result.stderr
