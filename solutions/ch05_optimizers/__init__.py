"""Chapter 05: optimizers.

Exports the course so far (chapter 04's package) plus this chapter's optimizers and
random search.
"""

from ..ch04_backprop import *  # noqa: F403  (the course so far)
from ..ch04_backprop import __all__ as _course_so_far
from .optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop
from .random_search import random_search

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "random_search",
] if name not in _course_so_far]
