"""Chapter 07: generalization (regularization, dropout, initialisation, batch norm).

Exports the course so far (chapter 06's package); ``Dense`` is now the regularized
version, and ``Dropout`` and ``BatchNorm`` are new layers.
"""

from ..ch06_training import *  # noqa: F403  (the course so far)
from ..ch06_training import __all__ as _course_so_far
from .batchnorm import BatchNorm
from .dropout import Dropout
from .init import init_weights
from .regularization import Dense, regularization_loss

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "BatchNorm",
    "Dense",
    "Dropout",
    "init_weights",
    "regularization_loss",
] if name not in _course_so_far]
