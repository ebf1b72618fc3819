"""adamdyn: the shared code of *The Dynamics of Adam, Executed*.

The chapters hold the narrative; this package holds everything that two
chapters, or a chapter and a test, both need: optimizers, landscapes,
symbolic derivations, continuous-time models and plotting helpers.
"""

from . import landscapes, update_rule
from .optimizers import (
    Optimizer,
    State,
    Trajectory,
    adagrad,
    adam,
    adamw,
    combine,
    momentum,
    rmsprop,
    run,
    sgd,
    updates_from_gradients,
)

__all__ = [
    "landscapes",
    "update_rule",
    "Optimizer",
    "State",
    "Trajectory",
    "adagrad",
    "adam",
    "adamw",
    "combine",
    "momentum",
    "rmsprop",
    "run",
    "sgd",
    "updates_from_gradients",
]

__version__ = "0.1.0"
