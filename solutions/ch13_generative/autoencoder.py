"""An MLP autoencoder and the loss both of this chapter's image models use: binary
cross-entropy on logits, summed over the pixels of each image.

Images are rows of 784 pixel values in [0, 1] (MNIST divided by 255). The decoder ends
without an activation: it returns **logits** ``l``, and the reconstruction is
``sigmoid(l)``. Folding the sigmoid into the loss keeps it finite for any logit.
"""

import numpy as np

from ..ch11_recurrent import Adam, Dense, Layer, Loss, ReLU

# The training settings the grader uses.
AE_HIDDEN = 64
AE_LATENT = 8
AE_EPOCHS = 4
AE_BATCH = 64
AE_LEARNING_RATE = 3e-3


def sigmoid_stable(x):
    """x: any array. returns: 1 / (1 + exp(-x)), computed without overflow for any x
    (``exp`` is only ever taken of ``-|x|``). Given code."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class BinaryCrossEntropyWithLogits(Loss):
    """Binary cross-entropy of ``p = sigmoid(logits)`` against targets ``t`` in [0, 1],
    **summed** over the features of a sample (the pixels of an image) and averaged over
    the batch (``calculate``, inherited from chapter 03's ``Loss``).

    Unlike chapter 03's ``BinaryCrossEntropy`` (which averages over the outputs and
    clips p), this loss takes the logits and uses the identity
    ``-t log p - (1 - t) log(1 - p) = max(l, 0) - l t + log(1 + exp(-|l|))``, which is
    exact and finite for every logit, +-1000 included.
    """

    def forward(self, y_pred, y_true):
        """y_pred: (N, D) logits; y_true: (N, D) targets in [0, 1].
        returns: (N,) the per-sample losses ``sum over d of max(l, 0) - l t + log1p(exp(-|l|))``.
        """
        ### BEGIN SOLUTION
        l = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
        t = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
        return np.sum(np.maximum(l, 0.0) - l * t + np.log1p(np.exp(-np.abs(l))), axis=1)
        ### END SOLUTION

    def backward(self, dvalues, y_true):
        """dvalues: (N, D) the logits given to forward; y_true: (N, D).
        Sets and returns ``self.dinputs``, (N, D): the gradient of the batch mean,
        ``(sigmoid(l) - t) / N`` (no division by D: the loss is a sum over the pixels).
        """
        ### BEGIN SOLUTION
        self.dinputs = (sigmoid_stable(dvalues) - y_true) / len(dvalues)
        return self.dinputs
        ### END SOLUTION


def run_forward(layers, inputs, training=False):
    """Each layer's forward in turn (given): returns the last output."""
    for layer in layers:
        inputs = layer.forward(inputs, training=training)
    return inputs


def run_backward(layers, dvalues):
    """Each layer's backward in reverse order (given): returns the first layer's dinputs."""
    for layer in reversed(layers):
        dvalues = layer.backward(dvalues)
    return dvalues


def named_arrays(groups, method):
    """{f"{group}{i}.{name}": array} over the layers of each named group (given): how the
    chapter's networks turn their layers' ``parameters()`` or ``gradients()`` into one
    dict, so that an optimizer updates the whole network as one layer."""
    return {f"{group}{i}.{name}": array for group, layers in groups.items() for i, layer in enumerate(layers)
            for name, array in getattr(layer, method)().items()}


class Autoencoder(Layer):
    """An MLP that squeezes each image through a narrow code and rebuilds it.

    Attributes ``encoder`` and ``decoder``: the lists of layers below (the grader sets
    weights through them, e.g. ``model.encoder[2].weights``), created in this order, each
    Dense with He scale ``sqrt(2 / n_in)``:

        encoder: Dense(n_inputs, n_hidden), ReLU, Dense(n_hidden, n_latent)   -> codes
        decoder: Dense(n_latent, n_hidden), ReLU, Dense(n_hidden, n_inputs)   -> logits

    ``parameters()`` / ``gradients()`` name the arrays ``"encoder0.weights"``,
    ``"encoder0.biases"``, ``"encoder2.weights"``, ..., ``"decoder2.biases"`` (group name
    and the layer's index in ``self.encoder`` / ``self.decoder``), so an optimizer's
    ``update_params(autoencoder)`` updates every layer at once.
    """

    def __init__(self, n_inputs, n_hidden, n_latent, rng):
        """n_inputs, n_hidden, n_latent: ints; rng: np.random.Generator (the only draws:
        the four weight matrices, in the order above)."""
        self.n_inputs, self.n_hidden, self.n_latent = n_inputs, n_hidden, n_latent
        ### BEGIN SOLUTION
        self.encoder = [Dense(n_inputs, n_hidden, rng, weight_scale=np.sqrt(2.0 / n_inputs)), ReLU(),
                        Dense(n_hidden, n_latent, rng, weight_scale=np.sqrt(2.0 / n_hidden))]
        self.decoder = [Dense(n_latent, n_hidden, rng, weight_scale=np.sqrt(2.0 / n_latent)), ReLU(),
                        Dense(n_hidden, n_inputs, rng, weight_scale=np.sqrt(2.0 / n_hidden))]
        ### END SOLUTION

    def parameters(self):
        return named_arrays({"encoder": self.encoder, "decoder": self.decoder}, "parameters")

    def gradients(self):
        return named_arrays({"encoder": self.encoder, "decoder": self.decoder}, "gradients")

    def encode(self, inputs, training=False):
        """inputs: (N, n_inputs). returns: the codes, (N, n_latent)."""
        ### BEGIN SOLUTION
        return run_forward(self.encoder, inputs, training)
        ### END SOLUTION

    def decode(self, codes, training=False):
        """codes: (N, n_latent). returns: the logits, (N, n_inputs)."""
        ### BEGIN SOLUTION
        return run_forward(self.decoder, codes, training)
        ### END SOLUTION

    def forward(self, inputs, training=False):
        """inputs: (N, n_inputs). returns: the logits of the reconstruction, (N, n_inputs)."""
        ### BEGIN SOLUTION
        self.output = self.decode(self.encode(inputs, training), training)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, n_inputs), the gradient of the loss with respect to the logits.
        Runs backward through the decoder, then the encoder (every layer's gradients set);
        sets and returns ``self.dinputs`` (N, n_inputs)."""
        ### BEGIN SOLUTION
        self.dinputs = run_backward(self.encoder, run_backward(self.decoder, dvalues))
        return self.dinputs
        ### END SOLUTION

    def reconstruct(self, inputs):
        """inputs: (N, n_inputs). returns: ``sigmoid(forward(inputs))``, (N, n_inputs) in (0, 1)."""
        ### BEGIN SOLUTION
        return sigmoid_stable(self.forward(inputs))
        ### END SOLUTION


def train_autoencoder(X, rng, n_hidden=AE_HIDDEN, n_latent=AE_LATENT, epochs=AE_EPOCHS, batch_size=AE_BATCH,
                      learning_rate=AE_LEARNING_RATE):
    """Train an autoencoder to rebuild its inputs.

    ``model = Autoencoder(X.shape[1], n_hidden, n_latent, rng)``, ``loss =
    BinaryCrossEntropyWithLogits()`` (the targets are the inputs themselves), ``Adam(
    learning_rate)``. Each epoch: ``order = rng.permutation(N)``, then for every batch of
    ``batch_size`` consecutive indices of ``order`` (the last one may be shorter): forward
    with ``training=True``, ``loss.backward(logits, batch)``, ``model.backward``, then
    ``pre_update_params``, ``update_params(model)``, ``post_update_params``.

    X: (N, D) images in [0, 1]; rng: np.random.Generator (the weights, then the
    permutations). returns: the trained ``Autoencoder``; ``model.history`` is the list of
    the epochs' mean training losses.
    """
    ### BEGIN SOLUTION
    model = Autoencoder(X.shape[1], n_hidden, n_latent, rng)
    loss, optimizer = BinaryCrossEntropyWithLogits(), Adam(learning_rate=learning_rate)
    model.history = []
    for _ in range(epochs):
        order, total = rng.permutation(len(X)), 0.0
        for start in range(0, len(X), batch_size):
            batch = X[order[start:start + batch_size]]
            logits = model.forward(batch, training=True)
            total += float(np.sum(loss.forward(logits, batch)))
            model.backward(loss.backward(logits, batch))
            optimizer.pre_update_params()
            optimizer.update_params(model)
            optimizer.post_update_params()
        model.history.append(total / len(X))
    return model
    ### END SOLUTION
