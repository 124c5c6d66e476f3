# Generated from solutions/ch07_generalization/regularization.py by `nox -s stubs`: fill in the TODOs below.
"""L1 and L2 regularization: a penalty on large parameters, in the loss and in the
gradients of ``Dense``.

A regularized layer adds to the data loss

    l1 * sum(|W|) + l2 * sum(W**2)      (and the same, with its own strengths, for b)

so its backward pass adds the derivative of that penalty to ``dweights`` and
``dbiases``: ``l1 * sign(W) + 2 * l2 * W``. The inputs' gradient is unchanged: the
penalty does not depend on the inputs.

A layer declares its penalties through the course's layer contract: ``regularizers()``
returns ``{parameter name: (l1, l2)}`` (chapter 01's ``Layer`` returns ``{}``: no
penalty). ``regularization_loss`` reads only that and ``parameters()``, so it works for
any layer of the course, whatever its parameters are called.
"""

import numpy as np

from ..ch06_training import Dense as _DenseBackward


class Dense(_DenseBackward):
    """Chapter 04's ``Dense`` with optional L1/L2 penalties on its weights and biases.

    Attributes after ``__init__``: ``weights`` (n_inputs, n_neurons) and ``biases``
    (1, n_neurons) as in chapter 01, and the four penalty strengths
    ``weight_regularizer_l1``, ``weight_regularizer_l2``, ``bias_regularizer_l1``,
    ``bias_regularizer_l2`` (floats >= 0; 0 turns a penalty off).
    """

    def __init__(self, n_inputs, n_neurons, rng, weight_scale=0.01,
                 weight_regularizer_l1=0.0, weight_regularizer_l2=0.0,
                 bias_regularizer_l1=0.0, bias_regularizer_l2=0.0):
        """n_inputs, n_neurons: ints; rng: np.random.Generator; weight_scale: float;
        the four regularizer strengths: floats >= 0."""
        super().__init__(n_inputs, n_neurons, rng, weight_scale)
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def regularizers(self):
        """{"weights": (weight_regularizer_l1, weight_regularizer_l2),
        "biases": (bias_regularizer_l1, bias_regularizer_l2)}: the penalties on each parameter."""
        return {"weights": (self.weight_regularizer_l1, self.weight_regularizer_l2),
                "biases": (self.bias_regularizer_l1, self.bias_regularizer_l2)}

    def backward(self, dvalues):
        """dvalues: (N, n_neurons), the gradient of the loss with respect to the output.

        Sets ``self.dweights`` (n_inputs, n_neurons), ``self.dbiases`` (1, n_neurons) and
        ``self.dinputs`` (N, n_inputs) as chapter 04 does, then adds the penalties'
        gradients: ``weight_regularizer_l1 * sign(weights) + 2 * weight_regularizer_l2 *
        weights`` to ``dweights``, and the same with the bias strengths and ``biases``
        to ``dbiases``. Returns ``self.dinputs`` as chapter 04 set it (the penalties do not
        change it; None when ``input_gradient`` is False).
        """
        # TODO(ch07): implement Dense.backward (the docstring gives the shapes).
        raise NotImplementedError("ch07: implement Dense.backward")


def regularization_loss(layer):
    """The penalty a layer adds to the loss, a float: for every ``name, (l1, l2)`` in
    ``layer.regularizers()``, with ``p = layer.parameters()[name]``,

        l1 * sum(|p|) + l2 * sum(p**2)

    summed over the names. For a ``Dense`` that is

        weight_regularizer_l1 * sum(|weights|) + weight_regularizer_l2 * sum(weights**2)
      + bias_regularizer_l1 * sum(|biases|)    + bias_regularizer_l2 * sum(biases**2)

    layer: any layer of the course. A layer that declares no penalty (``regularizers()``
           is ``{}``, e.g. a ``BatchNorm``) gives 0, so the function can be called on
           every trainable layer of a network.
    """
    # TODO(ch07): implement regularization_loss (the docstring gives the shapes).
    raise NotImplementedError("ch07: implement regularization_loss")
