"""Optimizers: the rules that turn gradients into parameter updates.

Every optimizer works the same way in a training loop, once per batch::

    optimizer.pre_update_params()      # compute this step's learning rate
    for layer in trainable_layers:     # after the backward pass filled dweights, dbiases
        optimizer.update_params(layer)
    optimizer.post_update_params()     # count the step

An optimizer keeps no per-parameter state of its own: what it remembers between steps
(momentums, caches) is stored on each layer, as arrays of the shape of the layer's
weights and biases, created as zeros the first time the layer is updated. One optimizer
can therefore update any number of layers.

In the formulas below, ``g`` is a gradient (``layer.dweights`` or ``layer.dbiases``),
``p`` the matching parameter (``layer.weights`` or ``layer.biases``), ``lr`` the current
learning rate and ``t = iterations + 1`` the number of the step being taken (1 for the
first step). All operations are elementwise.
"""

import numpy as np


class Optimizer:
    """What every optimizer shares: the learning rate, its decay, and the step count.

    Attributes:
        learning_rate:         float, the initial learning rate
        current_learning_rate: float, the learning rate of the step being taken
        decay:                 float, learning-rate decay per step (0 for none)
        iterations:            int, the number of steps taken so far (starts at 0)

    Decay: before step number ``iterations`` (counting from 0),
    ``current_learning_rate = learning_rate / (1 + decay * iterations)``.
    """

    def __init__(self, learning_rate, decay=0.0):
        """learning_rate, decay: floats. Sets the four attributes above;
        ``current_learning_rate`` starts equal to ``learning_rate``, ``iterations`` at 0."""
        ### BEGIN SOLUTION
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        ### END SOLUTION

    def pre_update_params(self):
        """Call once before the updates of a step. When ``decay`` is not 0, sets
        ``current_learning_rate = learning_rate / (1 + decay * iterations)``
        (computed from ``learning_rate`` every time, never from the previous value)."""
        ### BEGIN SOLUTION
        if self.decay:
            self.current_learning_rate = self.learning_rate / (1.0 + self.decay * self.iterations)
        ### END SOLUTION

    def update_params(self, layer):
        """Update ``layer.weights`` and ``layer.biases`` in place (each optimizer's rule)."""
        raise NotImplementedError("each optimizer defines its own update_params")

    def post_update_params(self):
        """Call once after the updates of a step: ``iterations`` goes up by one."""
        ### BEGIN SOLUTION
        self.iterations += 1
        ### END SOLUTION


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum.

    Without momentum:  ``p = p - lr * g``.

    With momentum (0 < momentum < 1) the layer keeps the previous update ``u`` of each
    parameter (``layer.weight_momentums``, ``layer.bias_momentums``; zeros at first) and

        u = momentum * u - lr * g
        p = p + u

    so ``u`` is a running velocity: a decaying sum of all past steps.
    """

    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        """learning_rate, decay, momentum: floats (momentum 0 is plain SGD)."""
        super().__init__(learning_rate, decay)
        self.momentum = momentum

    def update_params(self, layer):
        """layer: has ``weights`` (n_in, n_out), ``biases`` (1, n_out) and their gradients
        ``dweights`` (n_in, n_out), ``dbiases`` (1, n_out). Updates the parameters in
        place with ``current_learning_rate``; with momentum, also sets
        ``layer.weight_momentums`` (n_in, n_out) and ``layer.bias_momentums`` (1, n_out)
        to this step's updates."""
        ### BEGIN SOLUTION
        lr = self.current_learning_rate
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = self.momentum * layer.weight_momentums - lr * layer.dweights
            bias_updates = self.momentum * layer.bias_momentums - lr * layer.dbiases
            layer.weight_momentums = weight_updates
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -lr * layer.dweights
            bias_updates = -lr * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates
        ### END SOLUTION


class Adagrad(Optimizer):
    """Adaptive gradient: each parameter gets its own, shrinking step size.

    The layer keeps the sum of all squared gradients so far (``layer.weight_cache``,
    ``layer.bias_cache``; zeros at first) and

        cache = cache + g**2
        p = p - lr * g / (sqrt(cache) + epsilon)

    ``epsilon`` sits outside the square root; it only prevents a division by zero.
    """

    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        """learning_rate, decay, epsilon: floats."""
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon

    def update_params(self, layer):
        """layer: ``weights`` (n_in, n_out), ``biases`` (1, n_out), ``dweights``,
        ``dbiases`` of the same shapes. Updates ``layer.weight_cache`` (n_in, n_out),
        ``layer.bias_cache`` (1, n_out), then the parameters, in place."""
        ### BEGIN SOLUTION
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache += layer.dweights**2
        layer.bias_cache += layer.dbiases**2
        lr = self.current_learning_rate
        layer.weights += -lr * layer.dweights / (np.sqrt(layer.weight_cache) + self.epsilon)
        layer.biases += -lr * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        ### END SOLUTION


class RMSprop(Optimizer):
    """Root-mean-square propagation: Adagrad with a cache that forgets.

    The layer keeps a running average of squared gradients (``layer.weight_cache``,
    ``layer.bias_cache``; zeros at first) and

        cache = rho * cache + (1 - rho) * g**2
        p = p - lr * g / (sqrt(cache) + epsilon)
    """

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        """learning_rate, decay, epsilon, rho: floats; rho is how much of the cache each
        step keeps."""
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.rho = rho

    def update_params(self, layer):
        """layer: ``weights`` (n_in, n_out), ``biases`` (1, n_out), ``dweights``,
        ``dbiases`` of the same shapes. Updates ``layer.weight_cache`` (n_in, n_out),
        ``layer.bias_cache`` (1, n_out), then the parameters, in place."""
        ### BEGIN SOLUTION
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * layer.dweights**2
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * layer.dbiases**2
        lr = self.current_learning_rate
        layer.weights += -lr * layer.dweights / (np.sqrt(layer.weight_cache) + self.epsilon)
        layer.biases += -lr * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        ### END SOLUTION


class Adam(Optimizer):
    """Adaptive moment estimation: momentum and RMSprop together, bias-corrected.

    The layer keeps a running average of gradients ``m`` (``layer.weight_momentums``,
    ``layer.bias_momentums``) and of squared gradients ``v`` (``layer.weight_cache``,
    ``layer.bias_cache``), zeros at first. With ``t = iterations + 1``:

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + epsilon)

    Only ``m`` and ``v`` are stored; ``m_hat`` and ``v_hat`` are recomputed each step.
    """

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        """learning_rate, decay, epsilon, beta_1, beta_2: floats."""
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def update_params(self, layer):
        """layer: ``weights`` (n_in, n_out), ``biases`` (1, n_out), ``dweights``,
        ``dbiases`` of the same shapes. Updates ``layer.weight_momentums``,
        ``layer.weight_cache`` (n_in, n_out), ``layer.bias_momentums``,
        ``layer.bias_cache`` (1, n_out), then the parameters, in place."""
        ### BEGIN SOLUTION
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        b1, b2 = self.beta_1, self.beta_2
        layer.weight_momentums = b1 * layer.weight_momentums + (1 - b1) * layer.dweights
        layer.bias_momentums = b1 * layer.bias_momentums + (1 - b1) * layer.dbiases
        layer.weight_cache = b2 * layer.weight_cache + (1 - b2) * layer.dweights**2
        layer.bias_cache = b2 * layer.bias_cache + (1 - b2) * layer.dbiases**2
        # Bias correction: the averages started at 0; t = iterations + 1 is this step's number.
        t = self.iterations + 1
        weight_momentums_hat = layer.weight_momentums / (1 - b1**t)
        bias_momentums_hat = layer.bias_momentums / (1 - b1**t)
        weight_cache_hat = layer.weight_cache / (1 - b2**t)
        bias_cache_hat = layer.bias_cache / (1 - b2**t)
        lr = self.current_learning_rate
        layer.weights += -lr * weight_momentums_hat / (np.sqrt(weight_cache_hat) + self.epsilon)
        layer.biases += -lr * bias_momentums_hat / (np.sqrt(bias_cache_hat) + self.epsilon)
        ### END SOLUTION
