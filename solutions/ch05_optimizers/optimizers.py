"""Optimizers: the rules that turn gradients into parameter updates.

Every optimizer works the same way in a training loop, once per batch::

    optimizer.pre_update_params()      # compute this step's learning rate
    for layer in trainable_layers:     # after the backward pass filled the gradients
        optimizer.update_params(layer)
    optimizer.post_update_params()     # count the step

An optimizer never looks for ``weights`` or ``biases`` by name. It asks the layer, through
the course's parameter interface (``docs/conventions.md``):

    layer.parameters()   {name: array}  the layer's own arrays, updated in place
    layer.gradients()    {name: array}  the gradient of each, same names and shapes
    layer.trainable      bool           False freezes the layer: it is left alone

so a ``Dense`` (``weights``, ``biases``), a ``BatchNorm`` (``gamma``, ``beta``) or any layer of
a later chapter is trained by the same code. What an optimizer remembers between steps
(momentums, caches) is kept in ``self.state``, one small dict per (layer, parameter name),
created empty the first time that parameter is updated: one optimizer can update any
number of layers, and each parameter has its own state.

In the formulas below, ``g`` is a gradient, ``p`` the matching parameter, ``lr`` the
current learning rate and ``t = iterations + 1`` the number of the step being taken (1 for
the first step). All operations are elementwise.
"""

import numpy as np


class Optimizer:
    """What every optimizer shares: the learning rate, its decay, the step count and the
    state of every parameter it updates.

    Attributes:
        learning_rate:         float, the initial learning rate
        current_learning_rate: float, the learning rate of the step being taken
        decay:                 float, learning-rate decay per step (0 for none)
        iterations:            int, the number of steps taken so far (starts at 0)
        state:                 dict {(layer, name): dict of arrays}, what the optimizer
                               keeps for each parameter it has updated (given: starts empty)

    Decay: before step number ``iterations`` (counting from 0),
    ``current_learning_rate = learning_rate / (1 + decay * iterations)``.
    """

    def __init__(self, learning_rate, decay=0.0):
        """learning_rate, decay: floats. Sets the four attributes above;
        ``current_learning_rate`` starts equal to ``learning_rate``, ``iterations`` at 0."""
        self.state = {}
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
        """Update every parameter of ``layer`` in place, with this optimizer's rule.

        A frozen layer (``layer.trainable`` False) is skipped (given): nothing changes and
        no state is created for it. Otherwise, for every ``name, param`` in
        ``layer.parameters()``: take the gradient ``layer.gradients()[name]`` and the
        parameter's state ``self.state[(layer, name)]`` (a new empty dict the first time;
        the key is the layer object itself and the parameter's name, so two layers never
        share state), and call ``self.update_parameter(param, gradient, state)``.
        """
        if not getattr(layer, "trainable", True):  # a layer without the attribute is trainable
            return
        ### BEGIN SOLUTION
        gradients = layer.gradients()
        for name, param in layer.parameters().items():
            state = self.state.setdefault((layer, name), {})
            self.update_parameter(param, gradients[name], state)
        ### END SOLUTION

    def update_parameter(self, param, grad, state):
        """Update one parameter array ``param`` in place (``param -= ...``, ``param += ...``:
        assigning to the name ``param`` would not change the layer's array) from its
        gradient ``grad`` (same shape) and its ``state`` (a dict this method fills the first
        time and reads and updates afterwards). Each optimizer defines its rule."""
        raise NotImplementedError("each optimizer defines its own update_parameter")

    def post_update_params(self):
        """Call once after the updates of a step: ``iterations`` goes up by one."""
        ### BEGIN SOLUTION
        self.iterations += 1
        ### END SOLUTION


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum.

    Without momentum:  ``p = p - lr * g``.

    With momentum (0 < momentum < 1) each parameter keeps its previous update ``u``
    (``state["momentums"]``, zeros at first) and

        u = momentum * u - lr * g
        p = p + u

    so ``u`` is a running velocity: a decaying sum of all past steps.
    """

    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        """learning_rate, decay, momentum: floats (momentum 0 is plain SGD)."""
        super().__init__(learning_rate, decay)
        self.momentum = momentum

    def update_parameter(self, param, grad, state):
        """param, grad: arrays of one shape; state: dict. Updates ``param`` in place with
        ``current_learning_rate``; with momentum, also sets ``state["momentums"]`` (the
        shape of ``param``) to this step's update."""
        ### BEGIN SOLUTION
        lr = self.current_learning_rate
        if self.momentum:
            if "momentums" not in state:
                state["momentums"] = np.zeros_like(param)
            update = self.momentum * state["momentums"] - lr * grad
            state["momentums"] = update
        else:
            update = -lr * grad
        param += update
        ### END SOLUTION


class Adagrad(Optimizer):
    """Adaptive gradient: each parameter gets its own, shrinking step size.

    Each parameter keeps the sum of all its squared gradients so far (``state["cache"]``,
    zeros at first) and

        cache = cache + g**2
        p = p - lr * g / (sqrt(cache) + epsilon)

    ``epsilon`` sits outside the square root; it only prevents a division by zero.
    """

    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        """learning_rate, decay, epsilon: floats."""
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon

    def update_parameter(self, param, grad, state):
        """param, grad: arrays of one shape; state: dict. Updates ``state["cache"]`` (the
        shape of ``param``), then ``param``, in place."""
        ### BEGIN SOLUTION
        if "cache" not in state:
            state["cache"] = np.zeros_like(param)
        state["cache"] += grad**2
        lr = self.current_learning_rate
        param += -lr * grad / (np.sqrt(state["cache"]) + self.epsilon)
        ### END SOLUTION


class RMSprop(Optimizer):
    """Root-mean-square propagation: Adagrad with a cache that forgets.

    Each parameter keeps a running average of its squared gradients (``state["cache"]``,
    zeros at first) and

        cache = rho * cache + (1 - rho) * g**2
        p = p - lr * g / (sqrt(cache) + epsilon)
    """

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        """learning_rate, decay, epsilon, rho: floats; rho is how much of the cache each
        step keeps."""
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.rho = rho

    def update_parameter(self, param, grad, state):
        """param, grad: arrays of one shape; state: dict. Updates ``state["cache"]`` (the
        shape of ``param``), then ``param``, in place."""
        ### BEGIN SOLUTION
        if "cache" not in state:
            state["cache"] = np.zeros_like(param)
        state["cache"] = self.rho * state["cache"] + (1 - self.rho) * grad**2
        lr = self.current_learning_rate
        param += -lr * grad / (np.sqrt(state["cache"]) + self.epsilon)
        ### END SOLUTION


class Adam(Optimizer):
    """Adaptive moment estimation: momentum and RMSprop together, bias-corrected.

    Each parameter keeps a running average of its gradients ``m`` (``state["momentums"]``)
    and of its squared gradients ``v`` (``state["cache"]``), zeros at first. With
    ``t = iterations + 1``:

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

    def update_parameter(self, param, grad, state):
        """param, grad: arrays of one shape; state: dict. Updates ``state["momentums"]`` and
        ``state["cache"]`` (the shape of ``param``), then ``param``, in place."""
        ### BEGIN SOLUTION
        if "cache" not in state:
            state["momentums"] = np.zeros_like(param)
            state["cache"] = np.zeros_like(param)
        b1, b2 = self.beta_1, self.beta_2
        m, v = state["momentums"], state["cache"]
        # The running averages are updated in place (no new arrays each step).
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad**2
        # Bias correction: the averages started at 0; t = iterations + 1 is this step's number.
        t = self.iterations + 1
        momentums_hat = m / (1 - b1**t)  # two new arrays; the state keeps m and v
        cache_hat = v / (1 - b2**t)
        lr = self.current_learning_rate
        # param -= lr * momentums_hat / (sqrt(cache_hat) + epsilon), one operation at a
        # time on those two arrays, so that no further array is made:
        denominator = np.sqrt(cache_hat, out=cache_hat)
        denominator += self.epsilon
        momentums_hat /= denominator
        param -= lr * momentums_hat
        ### END SOLUTION
