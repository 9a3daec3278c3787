"""The operator registry: one record per activation, loss, optimiser, schedule and initialiser.

Each record holds the operator's SymPy formula; derivatives come from SymPy
(``fdiff`` / ``sympy.diff``), and documents and kernels are rendered from the
same record. Adding an operator means adding one record in the module of its
kind (and its tests); nothing else changes.
"""

from .activations import ACTIVATIONS, Activation, make_activation
from .initializers import INITIALIZERS, Initializer
from .losses import LOSSES, Loss, make_loss
from .optimizers import OPTIMIZERS, SCHEDULES, Optimizer, Schedule

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Activation",
    "Initializer",
    "Loss",
    "Optimizer",
    "Schedule",
    "make_activation",
    "make_loss",
]
