"""A variational autoencoder: the reparameterization, the KL term, the ELBO.

The encoder maps an image x to the mean ``mu`` and the **log-variance** ``logvar`` (log
sigma squared, not log sigma) of a Gaussian over codes; the decoder maps a code z to the
logits of a Bernoulli distribution over the pixels. Per image, the loss is the negative
ELBO:

    reconstruction: BinaryCrossEntropyWithLogits, summed over the pixels
    KL:             -1/2 * sum over the K latent dimensions of (1 + logvar - mu^2 - exp(logvar))

both **summed** over their axis, then averaged over the batch. The noise ``eps`` is always
an argument: nothing in this module draws random numbers except ``train_vae``.
"""

import numpy as np

from ..ch11_recurrent import Adam, Dense, Layer, ReLU
from .autoencoder import BinaryCrossEntropyWithLogits, named_arrays, run_backward, run_forward, sigmoid_stable

# The training settings the grader uses.
VAE_HIDDEN = 64
VAE_LATENT = 8
VAE_EPOCHS = 4
VAE_BATCH = 64
VAE_LEARNING_RATE = 3e-3


def reparameterize(mu, logvar, eps):
    """mu, logvar, eps: (N, K). returns: z, (N, K), ``mu + exp(logvar / 2) * eps``: the
    standard deviation is ``exp(logvar / 2)``, the square root of the variance ``exp(logvar)``.
    ``eps`` is the caller's standard normal noise: the function itself draws nothing, so the
    same arguments always give the same z."""
    ### BEGIN SOLUTION
    return mu + np.exp(0.5 * logvar) * eps
    ### END SOLUTION


def reparameterize_backward(dz, logvar, eps):
    """dz: (N, K) gradient of the loss with respect to z; logvar, eps: as given to
    ``reparameterize``. returns: ``(dmu, dlogvar)``, both (N, K):
    ``dmu = dz``, ``dlogvar = dz * eps * exp(logvar / 2) / 2``."""
    ### BEGIN SOLUTION
    return dz, dz * eps * 0.5 * np.exp(0.5 * logvar)
    ### END SOLUTION


def kl_divergence(mu, logvar):
    """mu, logvar: (N, K). returns: (N,), the KL divergence of N(mu, diag(exp(logvar)))
    from N(0, I) for each sample, **summed** over the K latent dimensions:
    ``-1/2 * sum(1 + logvar - mu**2 - exp(logvar), axis=1)``. Never negative; 0 exactly
    when mu = 0 and logvar = 0."""
    ### BEGIN SOLUTION
    return -0.5 * np.sum(1.0 + logvar - mu**2 - np.exp(logvar), axis=1)
    ### END SOLUTION


def kl_divergence_backward(mu, logvar):
    """mu, logvar: (N, K). returns: ``(dmu, dlogvar)``, both (N, K): the gradient of the
    batch **mean** of ``kl_divergence(mu, logvar)``: ``mu / N`` and ``(exp(logvar) - 1) / (2 N)``."""
    ### BEGIN SOLUTION
    n = len(mu)
    return mu / n, 0.5 * (np.exp(logvar) - 1.0) / n
    ### END SOLUTION


class VAE(Layer):
    """A variational autoencoder with MLP encoder and decoder.

    Attributes ``encoder`` and ``decoder``: the lists of layers below (the grader sets
    weights through them, e.g. ``model.encoder[2].weights``), created in this order, each
    Dense with He scale ``sqrt(2 / n_in)``:

        encoder: Dense(n_inputs, n_hidden), ReLU, Dense(n_hidden, 2 * n_latent)
                 its output's first n_latent columns are mu, the last n_latent are logvar
        decoder: Dense(n_latent, n_hidden), ReLU, Dense(n_hidden, n_inputs)   -> logits

    ``parameters()`` / ``gradients()`` use the same names as ``Autoencoder``'s
    (``"encoder0.weights"``, ..., ``"decoder2.biases"``).
    """

    def __init__(self, n_inputs, n_hidden, n_latent, rng):
        """n_inputs, n_hidden, n_latent: ints; rng: np.random.Generator (the only draws:
        the four weight matrices, in the order above)."""
        self.n_inputs, self.n_hidden, self.n_latent = n_inputs, n_hidden, n_latent
        ### BEGIN SOLUTION
        self.encoder = [Dense(n_inputs, n_hidden, rng, weight_scale=np.sqrt(2.0 / n_inputs)), ReLU(),
                        Dense(n_hidden, 2 * n_latent, rng, weight_scale=np.sqrt(2.0 / n_hidden))]
        self.decoder = [Dense(n_latent, n_hidden, rng, weight_scale=np.sqrt(2.0 / n_latent)), ReLU(),
                        Dense(n_hidden, n_inputs, rng, weight_scale=np.sqrt(2.0 / n_hidden))]
        ### END SOLUTION

    def parameters(self):
        return named_arrays({"encoder": self.encoder, "decoder": self.decoder}, "parameters")

    def gradients(self):
        return named_arrays({"encoder": self.encoder, "decoder": self.decoder}, "gradients")

    def encode(self, inputs, training=False):
        """inputs: (N, n_inputs). returns: ``(mu, logvar)``, both (N, n_latent)."""
        ### BEGIN SOLUTION
        out = run_forward(self.encoder, inputs, training)
        return out[:, :self.n_latent], out[:, self.n_latent:]
        ### END SOLUTION

    def decode(self, z, training=False):
        """z: (N, n_latent). returns: the logits, (N, n_inputs)."""
        ### BEGIN SOLUTION
        return run_forward(self.decoder, z, training)
        ### END SOLUTION

    def forward(self, inputs, eps, training=False):
        """inputs: (N, n_inputs); eps: (N, n_latent) standard normal noise, given.
        Encodes, samples ``z = reparameterize(mu, logvar, eps)``, decodes; keeps
        ``self.mu``, ``self.logvar``, ``self.eps`` (backward needs them) and returns the
        logits, (N, n_inputs)."""
        ### BEGIN SOLUTION
        self.mu, self.logvar = self.encode(inputs, training)
        self.eps = eps
        self.z = reparameterize(self.mu, self.logvar, eps)
        self.output = self.decode(self.z, training)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, n_inputs), the gradient of the mean reconstruction loss with
        respect to the logits (``BinaryCrossEntropyWithLogits.backward``).

        Backward through the decoder gives dz; ``reparameterize_backward`` gives (dmu,
        dlogvar); **add** the KL term's gradient ``kl_divergence_backward(mu, logvar)``;
        backward through the encoder with ``[dmu, dlogvar]`` side by side. So the
        gradients are those of the mean negative ELBO. Sets and returns ``self.dinputs``
        (N, n_inputs) (the inputs seen as the encoder's inputs)."""
        ### BEGIN SOLUTION
        dz = run_backward(self.decoder, dvalues)
        dmu, dlogvar = reparameterize_backward(dz, self.logvar, self.eps)
        kl_mu, kl_logvar = kl_divergence_backward(self.mu, self.logvar)
        dout = np.concatenate([dmu + kl_mu, dlogvar + kl_logvar], axis=1)
        self.dinputs = run_backward(self.encoder, dout)
        return self.dinputs
        ### END SOLUTION

    def negative_elbo(self, inputs, eps):
        """inputs: (N, n_inputs); eps: (N, n_latent). returns: (N,), each image's
        negative ELBO (given): its reconstruction loss plus its KL term."""
        logits = self.forward(inputs, eps)
        return BinaryCrossEntropyWithLogits().forward(logits, inputs) + kl_divergence(self.mu, self.logvar)

    def generate(self, z):
        """z: (N, n_latent) codes. returns: the decoded images ``sigmoid(decode(z))`` (given)."""
        return sigmoid_stable(self.decode(z))


def train_vae(X, rng, n_hidden=VAE_HIDDEN, n_latent=VAE_LATENT, epochs=VAE_EPOCHS, batch_size=VAE_BATCH,
              learning_rate=VAE_LEARNING_RATE):
    """Train a VAE by minimising the mean negative ELBO.

    ``model = VAE(X.shape[1], n_hidden, n_latent, rng)``, ``Adam(learning_rate)``, loss
    ``BinaryCrossEntropyWithLogits()``. Each epoch: ``order = rng.permutation(N)``; for
    every batch of ``batch_size`` consecutive indices of ``order``: ``eps =
    rng.standard_normal((len(batch), n_latent))``, ``logits = model.forward(batch, eps,
    training=True)``, ``model.backward(loss.backward(logits, batch))``, then the
    optimizer's three calls with ``update_params(model)``.

    X: (N, D) images in [0, 1]; rng: np.random.Generator. returns: the trained ``VAE``;
    ``model.history`` is the list of the epochs' mean negative ELBOs.
    """
    ### BEGIN SOLUTION
    model = VAE(X.shape[1], n_hidden, n_latent, rng)
    loss, optimizer = BinaryCrossEntropyWithLogits(), Adam(learning_rate=learning_rate)
    model.history = []
    for _ in range(epochs):
        order, total = rng.permutation(len(X)), 0.0
        for start in range(0, len(X), batch_size):
            batch = X[order[start:start + batch_size]]
            eps = rng.standard_normal((len(batch), n_latent))
            logits = model.forward(batch, eps, training=True)
            total += float(np.sum(loss.forward(logits, batch) + kl_divergence(model.mu, model.logvar)))
            model.backward(loss.backward(logits, batch))
            optimizer.pre_update_params()
            optimizer.update_params(model)
            optimizer.post_update_params()
        model.history.append(total / len(X))
    return model
    ### END SOLUTION
