"""Regenerate tests/golden/flops_facts.json: run every FLOP counter on every model of models.py.

    python3 tests/golden/flops/record.py

runs run_torch_tools.py in ~/.venvs/flops and run_tf.py in ~/.venvs/tfflops side by side (a few
minutes), then assembles their raw outputs into ../flops_facts.json: for each tool its version,
the call made, its unit, its total for each model, and the rules read from its source (kept by
hand in notes.json, the one part no tool prints); for each model its mlpcalc spec, batch and the
PyTorch model the tools were run on. A tool that fails on a model stops the assembly.

    --raw DIR        keep the raw outputs (raw_torch.json, raw_tf.json) in DIR
    --from-raw DIR   assemble from raw outputs kept earlier, without running anything
    --torch-python, --tf-python   other virtual environments (README.md has the recipes)
"""
import argparse
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from models import MODELS  # noqa: E402

FACTS = HERE.parent / "flops_facts.json"
NOTES = HERE / "notes.json"
TORCH_TOOLS = ["torchinfo", "fvcore", "thop", "ptflops", "calflops"]


def run(python, script, out):
    done = subprocess.run([python, str(HERE / script), str(out)], cwd=HERE, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-4000:]}")
    return json.loads(Path(out).read_text())


def totals(tool, measured):
    """Each model's total; every model must have been measured, without error."""
    found = {}
    for name in MODELS:
        figures = measured["models"].get(name)
        if figures is None or "error" in figures:
            raise SystemExit(f"{tool} on {name}: {figures and figures['error']}")
        found[name] = figures["total"]
    return found


def unit(tool, measured):
    units = {figures["unit"] for figures in measured["models"].values()}
    if len(units) != 1:
        raise SystemExit(f"{tool} reports in several units: {units}")
    return units.pop()


def assemble(raw_torch, raw_tf):
    notes = json.loads(NOTES.read_text())
    tools = {}
    for tool in TORCH_TOOLS:
        measured = raw_torch[tool]
        tools[tool] = {"version": measured["version"], "call": measured["call"], "unit": unit(tool, measured),
                       "totals": totals(tool, measured), "rules": notes["tools"][tool]["rules"]}
    tools["tf-profiler"] = {"version": raw_tf["version"], "call": raw_tf["call"], "unit": unit("tf-profiler", raw_tf),
                            "totals": totals("tf-profiler", raw_tf), "rules": notes["tools"]["tf-profiler"]["rules"]}
    return {
        "about": notes["about"],
        "env": raw_torch["_env"],
        "models": {name: {"spec": m["spec"], "batch": m["batch"], "torch": m["torch"]} for name, m in MODELS.items()},
        "tools": tools,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torch-python", default=str(Path.home() / ".venvs/flops/bin/python"))
    parser.add_argument("--tf-python", default=str(Path.home() / ".venvs/tfflops/bin/python"))
    parser.add_argument("--raw", help="keep the raw outputs in this folder")
    parser.add_argument("--from-raw", help="assemble from the raw outputs in this folder, running nothing")
    args = parser.parse_args()

    if args.from_raw:
        folder = Path(args.from_raw)
        raw_torch = json.loads((folder / "raw_torch.json").read_text())
        raw_tf = json.loads((folder / "raw_tf.json").read_text())
    else:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(args.raw or scratch)
            folder.mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(max_workers=2) as pool:
                torch_job = pool.submit(run, args.torch_python, "run_torch_tools.py", folder / "raw_torch.json")
                tf_job = pool.submit(run, args.tf_python, "run_tf.py", folder / "raw_tf.json")
                raw_torch, raw_tf = torch_job.result(), tf_job.result()
    facts = assemble(raw_torch, raw_tf)
    FACTS.write_text(json.dumps(facts, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {FACTS}: {len(facts['models'])} models x {len(facts['tools'])} tools", file=sys.stderr)


if __name__ == "__main__":
    main()
