"""Gradient clipping by global norm, through the parameter protocol."""

import numpy as np


def global_norm(layers):
    """The length of all gradients together, as one long vector.

    layers:  a list of layers with ``gradients()`` (name -> array); layers whose
             ``trainable`` attribute is False are skipped (they are not updated)
    returns: float, sqrt(sum over layers, names and entries of gradient**2)
    """
    ### BEGIN SOLUTION
    total = 0.0
    for layer in layers:
        if not getattr(layer, "trainable", True):
            continue
        for g in layer.gradients().values():
            total += float(np.sum(np.square(g)))
    return float(np.sqrt(total))
    ### END SOLUTION


def clip_grad_norm(layers, max_norm):
    """Scale every gradient of the trainable layers by the same factor so that their
    global norm is at most ``max_norm``: by ``max_norm / norm`` when ``norm > max_norm``,
    otherwise leave them unchanged. The direction of the whole gradient is kept; only
    its length changes (clipping each entry to [-max_norm, max_norm] would turn it).

    The arrays that ``gradients()`` returns are scaled **in place** (``g *= scale``), so
    that an optimizer reading ``gradients()`` afterwards sees the clipped values.

    layers:   list of layers (as in ``global_norm``); max_norm: float > 0
    returns:  float, the global norm *before* clipping (worth logging: it shows when
              gradients explode)
    """
    ### BEGIN SOLUTION
    norm = global_norm(layers)
    if norm > max_norm:
        scale = max_norm / norm
        for layer in layers:
            if not getattr(layer, "trainable", True):
                continue
            for g in layer.gradients().values():
                g *= scale
    return norm
    ### END SOLUTION
