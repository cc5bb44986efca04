"""The FLOP-counting tools whose figures mlpcalc reproduces, beside its own count.

Each tool counts something else: a multiply-add as one op or two, bias adds or not,
activations or not, the positions of a rank-3 input or not. How each counts a layer is a
fact about the layer (core/layers.py) or its activation (core/activations.py); this table
names the tools. The rules were read from each tool's source and checked against what the
tool reports (tests/golden/flops_facts.json, recorded by tests/golden/flops/).
"""

from __future__ import annotations

from dataclasses import dataclass

MLPCALC = "mlpcalc"
# ptflops counts through module hooks (once per sample) and through patched
# torch.nn.functional calls (once per row of the batch): two counters, one convention.
PTFLOPS_MODULE = "ptflops-module"


@dataclass(frozen=True)
class Convention:
    """A tool's way of counting: its name (the --flops-convention value) and unit."""

    name: str
    unit: str
    summary: str


CONVENTIONS = {
    convention.name: convention
    for convention in (
        Convention(MLPCALC, "FLOPs", "every operation; a multiply-add is 2; activations by formula"),
        Convention("torchinfo", "mult-adds", "parameters x batch; positions not counted"),
        Convention("fvcore", "flops", "a multiply-add is 1; no bias; activations 0"),
        Convention("thop", "MACs", "a multiply-add is 1; no bias; only softmax among activations"),
        Convention("ptflops", "MACs", "bias counted; ReLU and GELU twice; functional ops per row"),
        Convention("calflops", "FLOPs", "a multiply-add is 2; no bias; ReLU, GELU, softmax 1"),
        Convention("tf-profiler", "float_ops", "a multiply-add is 2; bias adds; some activations"),
    )
}
