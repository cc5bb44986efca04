"""Model definitions for the FLOP-counter survey (PyTorch equivalents of Keras Sequential MLPs)."""
import torch
import torch.nn as nn


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


G_ACTS = {
    "G1": lambda: nn.ELU(alpha=1.0),
    "G2": lambda: nn.SELU(),
    "G3": lambda: nn.Softplus(),
    "G4": lambda: nn.SiLU(),
    "G5": lambda: nn.LeakyReLU(0.1),
    "G6": lambda: nn.GELU(approximate="tanh"),
    "G7": lambda: nn.Tanh(),
}


def build(name):
    torch.manual_seed(0)
    if name == "A":
        m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
        shape = (1, 3)
    elif name in ("B", "C"):
        m = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
        shape = (1, 784) if name == "B" else (32, 784)
    elif name == "D":
        m = nn.Sequential(nn.Linear(16, 32), nn.GELU(), BNLastDim(32), nn.Dropout(0.25),
                          nn.Linear(32, 8), nn.Softmax(dim=-1))
        shape = (1, 20, 16)
    elif name == "E":
        m = nn.Sequential(nn.Linear(64, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 10))
        shape = (1, 64)
    elif name == "F":
        m = nn.Sequential(nn.LayerNorm(100), nn.Linear(100, 50), nn.Sigmoid(), nn.Linear(50, 10), nn.Tanh())
        shape = (1, 100)
    elif name in G_ACTS:
        m = nn.Sequential(nn.Linear(8, 6), G_ACTS[name]())
        shape = (1, 8)
    elif name == "H":
        m = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32))
        shape = (1, 20, 16)
    elif name == "I":
        m = nn.Sequential(nn.Linear(16, 32), nn.Softmax(dim=-1), nn.ReLU())
        shape = (1, 20, 16)
    elif name == "J":
        m = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.BatchNorm1d(10), nn.Linear(10, 3))
        shape = (4, 10)
    else:
        raise KeyError(name)
    m.eval()
    return m, shape


MODELS = ["A", "B", "C", "D", "E", "F"]
MODELS2 = ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "H", "I", "J"]
DESCR = {
    "A": "Linear(3,2), ReLU, Linear(2,2), ReLU, Linear(2,2); input (1,3)",
    "B": "Linear(784,512), ReLU, Linear(512,10); input (1,784)",
    "C": "same as B; input (32,784)",
    "D": "Linear(16,32), GELU, BNLastDim(32)=[transpose(1,2), BatchNorm1d(32), transpose(1,2)], Dropout(0.25), Linear(32,8), Softmax(dim=-1); input (1,20,16)",
    "E": "Linear(64,256,bias=False), BatchNorm1d(256), ReLU, Linear(256,10); input (1,64)",
    "F": "LayerNorm(100), Linear(100,50), Sigmoid, Linear(50,10), Tanh; input (1,100)",
    "G1": "Linear(8,6), ELU(alpha=1.0); input (1,8)",
    "G2": "Linear(8,6), SELU; input (1,8)",
    "G3": "Linear(8,6), Softplus; input (1,8)",
    "G4": "Linear(8,6), SiLU; input (1,8)",
    "G5": "Linear(8,6), LeakyReLU(0.1); input (1,8)",
    "G6": "Linear(8,6), GELU(approximate='tanh'); input (1,8)",
    "G7": "Linear(8,6), Tanh; input (1,8)",
    "H": "Linear(16,32), LayerNorm(32); input (1,20,16)",
    "I": "Linear(16,32), Softmax(dim=-1), ReLU; input (1,20,16)",
    "J": "Linear(10,10), ReLU, BatchNorm1d(10), Linear(10,3); input (4,10) (batch 4, eval: running stats)",
}
