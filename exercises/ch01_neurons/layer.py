"""The contract every layer of the course follows, written once.

A network is a list of layers that data flows through. Whatever a layer computes, the
code around it (the training loop of chapter 06, the optimizers of chapter 05, the
``Model`` of chapter 08 and its files) talks to it only through these few names:

``forward(inputs, training=False)``
    stores what ``backward`` needs and returns the output. ``training`` is True while a
    network trains and False when it predicts; only a few layers care (dropout and batch
    normalization, chapter 07), the others accept it and ignore it.
``backward(dvalues)``
    receives the gradient of the loss with respect to the layer's output, sets
    ``self.dinputs`` (the gradient with respect to its inputs) and returns it.
``parameters()``
    a dict ``{name: array}`` of the arrays that training changes: the layer's own arrays,
    not copies, so that an optimizer can update them in place. ``{}`` for a layer
    without parameters.
``gradients()``
    a dict with the same names: the gradient of the loss with respect to each parameter,
    arrays of the same shapes, as the last ``backward`` set them.
``trainable``
    True by default; an optimizer leaves a layer whose ``trainable`` is False alone (no
    update, no state): this is how a layer is frozen.
``input_gradient``
    True by default. False says that nothing will read this layer's ``dinputs``: the
    first layer of a network, whose inputs are the data (chapter 08's ``Model`` sets it
    there). ``backward`` may then skip that product, set ``self.dinputs = None`` and
    return None; it still sets the gradients of the parameters. A layer that always
    computes ``dinputs`` stays correct: skipping is a saving, never a requirement.
``buffers()``
    arrays a layer keeps up to date without gradients and that predictions need (the
    running statistics of batch normalization); saved with the parameters. ``{}`` here.
``regularizers()``
    ``{name: (l1, l2)}``: the L1 and L2 penalty strengths on some of the parameters
    (chapter 07). ``{}`` here: no penalty.

``Layer`` gives the defaults: a layer class subclasses it and replaces what it needs.
"""


class Layer:
    """The base class of every layer: no parameters, trainable, no penalties, and its
    ``dinputs`` wanted (``input_gradient``: see the module's docstring)."""

    trainable = True
    input_gradient = True

    def forward(self, inputs, training=False):
        """inputs: a batch (N, ...). Returns the output; each layer defines it."""
        raise NotImplementedError(f"{type(self).__name__} defines no forward")

    def backward(self, dvalues):
        """dvalues: gradient with respect to the output. Sets and returns ``self.dinputs``
        (a layer may leave it None when ``input_gradient`` is False)."""
        raise NotImplementedError(f"{type(self).__name__} defines no backward")

    def parameters(self):
        """{name: array}, the layer's own trained arrays (live, not copies); {} here."""
        return {}

    def gradients(self):
        """{name: array}, the gradients of ``parameters()``, same names and shapes; {} here."""
        return {}

    def buffers(self):
        """{name: array}, untrained state that is saved with the parameters; {} here."""
        return {}

    def regularizers(self):
        """{name: (l1, l2)}, penalty strengths on parameters; {} here (no penalty)."""
        return {}
