# Generated from solutions/ch07_generalization/dropout.py by `nox -s stubs`: fill in the TODOs below.
"""Inverted dropout: during training, zero a random fraction of the values and scale
the survivors up, so that nothing needs to change at inference."""

import numpy as np

from ..ch06_training import Layer


class Dropout(Layer):
    """Drops each value with probability ``rate`` while training; the identity at
    inference.

    Attributes:
        rate: float in [0, 1), the fraction of values dropped
        rng:  np.random.Generator that draws the masks
        mask: (N, D) array set by a training ``forward``: 0 for a dropped value,
              ``1 / (1 - rate)`` for a kept one; None after an inference ``forward``
    """

    def __init__(self, rate, rng):
        """rate: float in [0, 1), the fraction of values to drop (0.1 drops 10 %);
        rng: np.random.Generator, the only source of randomness."""
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}")
        self.rate = rate
        self.rng = rng
        self.mask = None

    def forward(self, inputs, training=False):
        """inputs: (N, D); training: bool.

        In training, draws ``mask = rng.binomial(1, 1 - rate, size=inputs.shape) /
        (1 - rate)`` (exactly this one call, so that a given Generator state gives a
        given mask), stores it as ``self.mask`` and returns ``inputs * mask``. At
        inference (``training=False``) stores ``self.mask = None`` and returns a copy
        of ``inputs``. Either way stores ``self.inputs`` and ``self.output``; the output
        has shape (N, D).
        """
        # TODO(ch07): implement Dropout.forward (the docstring gives the shapes).
        raise NotImplementedError("ch07: implement Dropout.forward")

    def backward(self, dvalues):
        """dvalues: (N, D), the gradient of the loss with respect to the output.

        Sets and returns ``self.dinputs`` (N, D): ``dvalues * self.mask`` after a
        training forward (the same mask: a dropped value passes no gradient back, a
        kept one passes it scaled by ``1 / (1 - rate)``); a copy of ``dvalues`` after
        an inference forward.
        """
        # TODO(ch07): implement Dropout.backward (the docstring gives the shapes).
        raise NotImplementedError("ch07: implement Dropout.backward")
