"""Design tools built on the core and the costs: fit a template to a budget, expand sweeps."""
