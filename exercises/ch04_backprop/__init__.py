"""Chapter 04: backpropagation.

Exports the course so far (chapter 03's package); ``Dense`` is now the version with
``backward``.
"""

from ..ch03_losses import *  # noqa: F403  (the course so far)
from ..ch03_losses import __all__ as _course_so_far
from .dense import Dense
from .gradcheck import numerical_gradient, rel_error, sparse_gradient_check
from .two_layer import two_layer_loss_and_grads

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "Dense",
    "numerical_gradient",
    "rel_error",
    "sparse_gradient_check",
    "two_layer_loss_and_grads",
] if name not in _course_so_far]
