"""Activation functions: the non-linear (and one linear) layers between dense layers.

Every activation here acts on a batch ``inputs`` of shape (N, D): N samples, each a
row of D values. ``forward`` keeps what ``backward`` needs; ``backward`` receives the
gradient of the loss with respect to this layer's output, ``dvalues`` (N, D), and
returns the gradient with respect to its input, ``dinputs`` (N, D).

All activations except ``Softmax`` work element by element, so their backward pass
is an element-wise product of ``dvalues`` with the local derivative. ``Softmax``
mixes the values of a row, so its backward pass applies a (D, D) Jacobian per sample.

Each class is a ``Layer`` (chapter 01's contract): ``forward(inputs, training=False)``
(an activation computes the same thing while training and at inference, so it ignores
``training``), ``backward(dvalues)``, and no parameters (``parameters()`` is ``{}``).
"""

import numpy as np

from ..ch01_neurons import Layer


class ReLU(Layer):
    """Rectified linear unit: ``max(0, x)`` element-wise."""

    def forward(self, inputs, training=False):
        """inputs: (N, D) array; training: bool, unused (the same in training and at inference).

        Stores ``self.inputs`` and ``self.output`` and returns the output, shape
        (N, D): ``inputs`` with every negative entry replaced by 0.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.output = np.maximum(0, inputs)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D) gradient of the loss with respect to ``self.output``.

        Sets and returns ``self.dinputs``, shape (N, D): ``dvalues`` where the stored
        inputs are > 0, and 0 where they are <= 0 (the derivative at exactly 0 is
        taken to be 0). ``dvalues`` itself is left unchanged.
        """
        ### BEGIN SOLUTION
        # The local derivative is 1 where the input was > 0 and 0 elsewhere: multiplying by
        # that mask makes a new array and leaves dvalues unchanged.
        self.dinputs = dvalues * (self.inputs > 0)
        return self.dinputs
        ### END SOLUTION


class LeakyReLU(Layer):
    """Leaky ReLU: ``x`` where ``x > 0``, ``alpha * x`` elsewhere, element-wise."""

    def __init__(self, alpha=0.01):
        """alpha: float, the slope used for inputs <= 0."""
        self.alpha = alpha

    def forward(self, inputs, training=False):
        """inputs: (N, D) array; training: bool, unused (the same in training and at inference).

        Stores ``self.inputs`` and ``self.output`` and returns the output, shape
        (N, D): ``x`` where ``x > 0``, ``alpha * x`` elsewhere.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.output = np.where(inputs > 0, inputs, self.alpha * inputs)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D) gradient of the loss with respect to ``self.output``.

        Sets and returns ``self.dinputs``, shape (N, D): ``dvalues`` where the stored
        inputs are > 0, ``alpha * dvalues`` where they are <= 0.
        """
        ### BEGIN SOLUTION
        self.dinputs = np.where(self.inputs > 0, dvalues, self.alpha * dvalues)
        return self.dinputs
        ### END SOLUTION


class Sigmoid(Layer):
    """Logistic sigmoid: ``1 / (1 + exp(-x))`` element-wise, values in [0, 1]."""

    def forward(self, inputs, training=False):
        """inputs: (N, D) array; training: bool, unused (the same in training and at inference).

        Stores ``self.inputs`` and ``self.output`` and returns the output, shape
        (N, D). Computed without overflow: ``exp`` only ever sees ``-|x|``, so even
        ``x = +-1000`` gives exactly 1 or 0, with no warning and no NaN.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        e = np.exp(-np.abs(inputs))  # in (0, 1], never overflows
        self.output = np.where(inputs >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D) gradient of the loss with respect to ``self.output``.

        Sets and returns ``self.dinputs``, shape (N, D):
        ``dvalues * s * (1 - s)``, where ``s`` is the stored output.
        """
        ### BEGIN SOLUTION
        s = self.output
        self.dinputs = dvalues * s * (1.0 - s)
        return self.dinputs
        ### END SOLUTION


class Tanh(Layer):
    """Hyperbolic tangent element-wise, values in [-1, 1]."""

    def forward(self, inputs, training=False):
        """inputs: (N, D) array; training: bool, unused (the same in training and at inference).

        Stores ``self.inputs`` and ``self.output`` and returns the output, shape
        (N, D): ``np.tanh(inputs)``.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.output = np.tanh(inputs)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D) gradient of the loss with respect to ``self.output``.

        Sets and returns ``self.dinputs``, shape (N, D):
        ``dvalues * (1 - t**2)``, where ``t`` is the stored output.
        """
        ### BEGIN SOLUTION
        t = self.output
        self.dinputs = dvalues * (1.0 - t**2)
        return self.dinputs
        ### END SOLUTION


class Softmax(Layer):
    """Softmax over each row: turns a row of D scores into D probabilities."""

    def forward(self, inputs, training=False):
        """inputs: (N, D) array, one row of D scores (logits) per sample; training: bool,
        unused.

        Stores ``self.inputs`` and ``self.output`` and returns the output, shape
        (N, D): row i is ``exp(x_i) / sum(exp(x_i))``. Each row's maximum is
        subtracted before ``exp`` so that large scores cannot overflow; every row
        of the output is non-negative and sums to 1.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        shifted = inputs - np.max(inputs, axis=1, keepdims=True)
        exps = np.exp(shifted)
        self.output = exps / np.sum(exps, axis=1, keepdims=True)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D) gradient of the loss with respect to ``self.output``.

        Sets and returns ``self.dinputs``, shape (N, D). For sample i with output
        row ``s`` and gradient row ``g``, the Jacobian is ``diag(s) - s s^T`` and the
        result row is ``s * (g - sum(g * s))``; all rows are done at once.
        """
        ### BEGIN SOLUTION
        s = self.output
        self.dinputs = s * (dvalues - np.sum(dvalues * s, axis=1, keepdims=True))
        return self.dinputs
        ### END SOLUTION


class Linear(Layer):
    """The identity activation: output equals input (for regression outputs)."""

    def forward(self, inputs, training=False):
        """inputs: (N, D) array; training: bool, unused (the same in training and at inference).

        Stores ``self.inputs`` and ``self.output`` and returns the output, shape
        (N, D): a copy of ``inputs``.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.output = inputs.copy()
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D) gradient of the loss with respect to ``self.output``.

        Sets and returns ``self.dinputs``, shape (N, D): a copy of ``dvalues``
        (the derivative of the identity is 1).
        """
        ### BEGIN SOLUTION
        self.dinputs = dvalues.copy()
        return self.dinputs
        ### END SOLUTION
