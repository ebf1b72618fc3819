"""adamdyn: the shared code of *The Dynamics of Adam, Executed*.

The chapters hold the narrative; this package holds everything that two
chapters, or a chapter and a test, both need: optimizers, landscapes,
symbolic derivations, continuous-time models and plotting helpers.

The names below are loaded on first use (:pep:`562`), so that importing one
module of the package (``adamdyn.memo``, ``adamdyn.networks``) does not also
load the compiled kernels of :mod:`adamdyn.optimizers`.
"""

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


_FROM_OPTIMIZERS = frozenset(__all__) - {"landscapes", "update_rule"}


def __getattr__(name):
    # static absolute imports: the book's cache keys read this module's import graph (importlib
    # would count as importing every module), and ``from . import x`` would call this again
    if name == "landscapes":
        import adamdyn.landscapes
    elif name == "update_rule":
        import adamdyn.update_rule
    elif name == "validation":  # loaded by the package's import before it was lazy
        import adamdyn.validation
    elif name == "_kernels":
        import adamdyn._kernels  # noqa: F401
    elif name == "optimizers" or name in _FROM_OPTIMIZERS:
        import adamdyn.optimizers

        if name != "optimizers":
            globals()[name] = getattr(adamdyn.optimizers, name)
    else:
        raise AttributeError(f"module 'adamdyn' has no attribute {name!r}")
    return globals()[name]


def __dir__():
    return sorted(set(globals()) | set(__all__))
