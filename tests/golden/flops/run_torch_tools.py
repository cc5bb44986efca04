"""What torchinfo, fvcore, thop, ptflops and calflops report for each model of models.py, run for real.

    ~/.venvs/flops/bin/python run_torch_tools.py OUT.json [NAME ...]

Writes, per tool, its version, the call made, and per model its total with what else it tells
(per-layer figures, printed text); a tool that fails on a model gets {"error": ...} instead.
assemble.py turns this into ../flops_facts.json (record.py runs both).
"""
import io, json, os, re, sys, traceback, contextlib, warnings
from importlib.metadata import version
import torch
import torch.nn as nn
from models import MODELS, activation_arguments

OUT = sys.argv[1]
RUN = sys.argv[2:] or list(MODELS)


class BNLastDim(nn.Module):
    """BatchNorm over the LAST axis of a rank-3 (N, L, C) tensor, like keras BatchNormalization(axis=-1).

    Implemented as transpose(1,2) -> nn.BatchNorm1d(C) on (N, C, L) -> transpose(1,2).
    The nn.BatchNorm1d is a child module named 'bn' so module-hook tools see it.
    """

    def __init__(self, c):
        super().__init__()
        self.bn = nn.BatchNorm1d(c)

    def forward(self, x):
        return self.bn(x.transpose(1, 2)).transpose(1, 2)


def activation_module(act):
    name, arguments = activation_arguments(act)
    if name == "elu":
        return nn.ELU(alpha=arguments.get("alpha", 1.0))
    if name == "leaky_relu":
        return nn.LeakyReLU(arguments.get("negative_slope", 0.2))  # Keras's leaky_relu default
    if name == "gelu":
        return nn.GELU(approximate="tanh" if arguments.get("approximate") else "none")
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=-1),
            "linear": nn.Identity, "selu": nn.SELU, "softplus": nn.Softplus, "swish": nn.SiLU,
            "silu": nn.SiLU}[name]()


def build(name):
    """The model as a torch nn.Sequential in eval mode, and the input shape (batch first)."""
    torch.manual_seed(0)
    model = MODELS[name]
    features = model["input"]
    modules, width, leading = [], features[-1], list(features[:-1])  # leading: the axes before the last
    for kind, *args in model["layers"]:
        if kind == "dense":
            units, act, bias = [*args, *[None, None, True][len(args):]]
            modules.append(nn.Linear(width, units, bias=bias))
            if act is not None and act != "linear":
                modules.append(activation_module(act))
            width = units
        elif kind == "act":
            modules.append(activation_module(args[0]))
        elif kind == "bn":
            modules.append(nn.BatchNorm1d(width) if not leading else BNLastDim(width))
        elif kind == "ln":
            modules.append(nn.LayerNorm(width))
        elif kind == "dropout":
            modules.append(nn.Dropout(args[0]))
        elif kind == "flatten":  # every axis but the batch, as Keras's Flatten
            modules.append(nn.Flatten())
            for dim in leading:
                width *= dim
            leading = []
    m = nn.Sequential(*modules)
    m.eval()
    return m, (model["batch"], *features)


warnings.filterwarnings("ignore")
results = {}


def num(v):
    v = float(v)
    return int(v) if v.is_integer() else v


# ---------------- torchinfo ----------------
def run_torchinfo(name):
    from torchinfo import summary
    m, shape = build(name)
    st = summary(m, input_size=shape, verbose=0)
    per = [{"layer": f"{li.class_name}-{li.depth_index}" if hasattr(li, 'depth_index') else li.class_name,
            "var_name": li.var_name, "depth": li.depth, "leaf": li.is_leaf_layer, "mult_adds": int(li.macs)}
           for li in st.summary_list]
    return {"total": int(st.total_mult_adds), "unit": "mult-adds (torchinfo 'Total mult-adds')", "per_layer": per,
            "printed_total_line": [l for l in str(st).splitlines() if "mult-adds" in l]}


# ---------------- fvcore ----------------
def run_fvcore(name):
    from fvcore.nn import FlopCountAnalysis
    m, shape = build(name)
    x = torch.randn(*shape)
    fca = FlopCountAnalysis(m, x)
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(buf):
        tot = fca.total()
        bymod = fca.by_module()
        byop = fca.by_operator()
        unsup = fca.unsupported_ops()
    per = [{"module": k, "flops": int(v)} for k, v in bymod.items() if k != ""]
    return {"total": int(tot), "unit": "fvcore 'flops' (docstring: one fused multiply-add counted as one flop, i.e. MACs)",
            "per_layer": per, "by_operator": {k: int(v) for k, v in byop.items()},
            "unsupported_ops_skipped": {k: int(v) for k, v in unsup.items()}}


# ---------------- thop ----------------
def run_thop(name):
    from thop import profile
    m, shape = build(name)
    x = torch.randn(*shape)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ops, params, info = profile(m, inputs=(x,), ret_layer_info=True, verbose=False, report_missing=True)

    def flat(d, prefix=""):
        out = []
        for k, (o, p, sub) in d.items():
            out.append({"module": prefix + k, "ops": num(o)})
            out += flat(sub, prefix + k + ".")
        return out
    return {"total": num(ops), "unit": "MACs (thop README: 'macs, params = profile(...)')",
            "per_layer": flat(info), "stdout": buf.getvalue().strip()}


# ---------------- ptflops ----------------
def run_ptflops(name, backend="pytorch"):
    from ptflops import get_model_complexity_info
    m, shape = build(name)
    buf = io.StringIO()
    kw = {}
    if shape[0] != 1:
        kw["input_constructor"] = lambda res, s=shape: torch.randn(*s)
    with contextlib.redirect_stdout(buf):
        macs, params = get_model_complexity_info(m, tuple(shape[1:]), as_strings=False, print_per_layer_stat=True,
                                                 ost=buf, backend=backend, flops_units="Mac", verbose=True, **kw)
    txt = buf.getvalue()
    per = []
    if backend == "pytorch":
        for line in txt.splitlines():
            mm = re.match(r"\s*\((\w+)\): (\w+)\(.*?, ([\d.e+-]+) Mac, ", line)
            if mm:
                per.append({"module": mm.group(1), "type": mm.group(2), "macs": num(mm.group(3))})
    return {"total": num(macs), "unit": "MACs (ptflops: returns 'macs'; strings 'Mac/KMac/MMac')",
            "per_layer": per, "printed": txt.strip()}


# ---------------- calflops ----------------
def run_calflops(name):
    from calflops import calculate_flops
    m, shape = build(name)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        flops, macs, params = calculate_flops(model=m, input_shape=tuple(shape), output_as_string=False,
                                              print_results=False, print_detailed=False)
    # per-layer: re-run the same pipeline that calculate_flops uses and read module attrs before cleanup
    from calflops.calculate_pipline import CalFlopsPipline
    from calflops.utils import get_module_flops, get_module_macs
    m2, _ = build(name)
    pipe = CalFlopsPipline(model=m2, include_backPropagation=False, compute_bp_factor=2.0)
    pipe.start_flops_calculate(ignore_list=None)
    with torch.no_grad():
        m2(torch.randn(*shape))
    per = [{"module": n, "type": type(c).__name__, "flops": int(get_module_flops(c)), "macs": int(get_module_macs(c))}
           for n, c in m2.named_children()]
    t2 = (int(pipe.get_total_flops()), int(pipe.get_total_macs()))
    pipe.end_flops_calculate()
    return {"total": int(flops), "unit": "FLOPs (calflops 'fwd FLOPs')", "total_macs": int(macs),
            "per_layer": per, "per_layer_pipeline_totals_check": {"flops": t2[0], "macs": t2[1]}}


TOOLS = {
    "torchinfo": (run_torchinfo, "torchinfo.summary(model, input_size=SHAPE, verbose=0).total_mult_adds"),
    "fvcore": (run_fvcore, "fvcore.nn.FlopCountAnalysis(model, torch.randn(*SHAPE)).total()  (+ .by_module(), .by_operator())"),
    "thop": (run_thop, "thop.profile(model, inputs=(torch.randn(*SHAPE),), ret_layer_info=True, verbose=False, report_missing=True)[0]"),
    "ptflops": (run_ptflops, "ptflops.get_model_complexity_info(model, SHAPE[1:], as_strings=False, print_per_layer_stat=True, backend='pytorch', flops_units='Mac'[, input_constructor=lambda r: torch.randn(*SHAPE) when batch!=1])[0]"),
    "ptflops_aten": (lambda n: run_ptflops(n, "aten"), "ptflops.get_model_complexity_info(model, SHAPE[1:], as_strings=False, backend='aten', ...)[0]"),
    "calflops": (run_calflops, "calflops.calculate_flops(model=model, input_shape=SHAPE, output_as_string=False, print_results=False) -> (flops, macs, params)"),
}
PKG = {"torchinfo": "torchinfo", "fvcore": "fvcore", "thop": "thop", "ptflops": "ptflops", "ptflops_aten": "ptflops",
       "calflops": "calflops"}

for tool, (fn, call) in TOOLS.items():
    results[tool] = {"package": PKG[tool], "version": version(PKG[tool]), "call": call, "models": {}}
    for name in RUN:
        try:
            r = fn(name)
        except Exception as e:
            r = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-1500:]}
        results[tool]["models"][name] = r
        print(tool, name, r.get("total"), r.get("total_macs", ""), r.get("error", ""), flush=True)

results["_env"] = {"torch": torch.__version__, "python": sys.version.split()[0], "transformers(for calflops import)": version("transformers")}
with open(OUT, "w") as f:
    json.dump(results, f, indent=1, default=str)
