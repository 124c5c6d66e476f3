"""A ``Model``: one object that holds a network's layers, its loss, optimizer and
accuracy, and knows how to train, evaluate, predict, save and load it.

Typical use::

    model = Model()
    model.add(Dense(2, 64, rng, weight_scale=0.1, weight_regularizer_l2=5e-4))
    model.add(ReLU())
    model.add(Dropout(0.1, rng))
    model.add(Dense(64, 3, rng, weight_scale=0.1))
    model.add(Softmax())
    model.set(loss=CategoricalCrossEntropy(), optimizer=Adam(learning_rate=0.02),
              accuracy=AccuracyCategorical())
    model.finalize()
    history = model.train(X, y, epochs=300, batch_size=32, validation_data=(X_val, y_val), rng=rng)
    loss, accuracy = model.evaluate(X_test, y_test)
    model.save("spiral.npz")
    same = Model.load("spiral.npz")

Every layer is called as ``layer.forward(inputs, training=...)`` (chapter 07's contract):
``training=True`` while training, ``training=False`` in ``evaluate`` and ``predict``, so
that dropout is off and batch normalization uses its running statistics there.
"""

import sys
import time

import numpy as np

from ..ch07_generalization import (
    CategoricalCrossEntropy,
    SoftmaxCrossEntropy,
    is_trainable,
    regularization_loss,
)
from ..ch07_generalization import Softmax as _Softmax
from .saving import (
    ACCURACIES,
    ARCHITECTURE_KEY,
    FORMAT,
    LAYERS,
    LOSSES,
    NEEDS_RNG,
    OPTIMIZERS,
    VERSION,
    build_object,
    decode_architecture,
    encode_architecture,
    layer_arrays,
    layer_spec,
    object_spec,
    parameter_key,
    read_arrays,
)

HISTORY_KEYS = ("loss", "data_loss", "regularization_loss", "accuracy", "val_loss", "val_accuracy")


# ----------------------------------------------------------------------- given helpers


def batch_slices(n_samples, batch_size):
    """The consecutive slices that cut ``n_samples`` into batches of ``batch_size`` (the
    last one may be smaller); one slice of everything when ``batch_size`` is None."""
    if batch_size is None or batch_size >= n_samples:
        return [slice(0, n_samples)]
    return [slice(start, min(start + batch_size, n_samples)) for start in range(0, n_samples, batch_size)]


class _NoProgress:
    def advance(self, status=""):
        pass

    def close(self):
        pass


class _RichProgress:
    """In a terminal: a bar redrawn in place (rich)."""

    def __init__(self, total, description):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                                 console=Console(stderr=True))
        self.progress.start()
        self.task = self.progress.add_task(description, total=total, status="")

    def advance(self, status=""):
        self.progress.update(self.task, advance=1, status=status)

    def close(self):
        self.progress.stop()


class _Counter:
    """Counts steps and writes a one-line text of the progress."""

    def __init__(self, total, description):
        self.total, self.description, self.done = max(int(total), 1), description, 0
        self.start = time.perf_counter()

    def text(self, status, width=30):
        filled = int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        return (f"{self.description} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{elapsed:.0f} s  {status}").rstrip()


class _NotebookProgress(_Counter):
    """In Jupyter: one line of text, updated in place (an IPython display handle)."""

    def __init__(self, total, description):
        super().__init__(total, description)
        from IPython.display import Pretty, display

        self.pretty = Pretty
        self.handle = display(Pretty(self.text("")), display_id=True)
        self.shown = 0.0

    def advance(self, status=""):
        self.done += 1
        now = time.perf_counter()
        if now - self.shown >= 0.1 or self.done >= self.total:  # at most ten updates a second
            self.shown = now
            self.handle.update(self.pretty(self.text(status)))

    def close(self):
        pass


class _LineProgress(_Counter):
    """Output piped to a file or another program: a line at every tenth of the run."""

    def __init__(self, total, description, stream):
        super().__init__(total, description)
        self.stream, self.tenth = stream, 0

    def advance(self, status=""):
        self.done += 1
        tenth = 10 * self.done // self.total
        if tenth > self.tenth:
            self.tenth = tenth
            print(self.text(status), file=self.stream, flush=True)

    def close(self):
        pass


def in_notebook():
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code's notebooks)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_bar(total, enabled=True, description="training", stream=None):
    """A progress display over ``total`` steps, with ``advance(status)`` and ``close()``.

    A convenience, never a requirement; nothing at all when ``enabled`` is false. Otherwise:
    in a terminal, a bar redrawn in place (with ``rich``); in a Jupyter notebook, one line
    updated in place under the cell; anywhere else (output piped to a file, a log, the
    grader's worker) a line of text at every tenth of the run, on ``stream`` (default: the
    standard error stream).
    """
    if not enabled:
        return _NoProgress()
    stream = sys.stderr if stream is None else stream
    if in_notebook():
        try:
            return _NotebookProgress(total, description)
        except ImportError:
            pass
    elif stream is sys.stderr and stream.isatty():
        try:
            return _RichProgress(total, description)
        except ImportError:
            pass
    return _LineProgress(total, description, stream)


# ----------------------------------------------------------------------------- the model


class Model:
    """A network as one object.

    Attributes:
        layers:          list of layers, in the order the data flows through them
        loss:            the loss object (chapter 03), set by ``set``
        optimizer:       the optimizer (chapter 05), set by ``set``
        accuracy:        an ``Accuracy`` (this chapter), set by ``set``
        trainable_layers: list of the layers with parameters, set by ``finalize``
        output_layer:    the last layer, set by ``finalize``; its ``predictions``
                         method turns outputs into predictions
        softmax_cross_entropy: a ``SoftmaxCrossEntropy`` when the last layer is a
                         ``Softmax`` and the loss a ``CategoricalCrossEntropy``, else None;
                         set by ``finalize``
        finalized:       bool
    """

    def __init__(self):
        self.layers = []
        self.loss = None
        self.optimizer = None
        self.accuracy = None
        self.trainable_layers = []
        self.output_layer = None
        self.softmax_cross_entropy = None
        self.finalized = False

    def add(self, layer):
        """Append ``layer`` to the network (after the layers added before it)."""
        self.layers.append(layer)
        self.finalized = False

    def set(self, *, loss=None, optimizer=None, accuracy=None):
        """Set the loss, the optimizer and the accuracy object (each only if given)."""
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if accuracy is not None:
            self.accuracy = accuracy
        self.finalized = False

    def finalize(self):
        """Get the model ready to run; call it after the last ``add`` and ``set``.

        Sets ``output_layer`` (the last layer), ``trainable_layers`` (every layer with
        parameters, i.e. every layer for which chapter 06's ``is_trainable`` is true: a
        ``Dense`` and a ``BatchNorm`` both are, in their order in ``layers``) and
        ``softmax_cross_entropy``: a new ``SoftmaxCrossEntropy()`` when the last layer is
        a ``Softmax`` (chapter 07's class or this chapter's) and the loss a
        ``CategoricalCrossEntropy``, else None. Sets ``input_gradient = False`` on the
        first layer (``layers[0]``): its inputs are the data, so nothing reads its
        ``dinputs`` and its backward may skip them (chapter 01's ``Layer``); and
        ``input_gradient = True`` on every other layer, whose ``dinputs`` the layer before
        it needs (also a layer that was first in another model). Then ``finalized = True``.

        raises: ValueError when there are no layers or no loss
        """
        ### BEGIN SOLUTION
        if not self.layers:
            raise ValueError("the model has no layers: add some before finalize()")
        if self.loss is None:
            raise ValueError("the model has no loss: call set(loss=...) before finalize()")
        self.output_layer = self.layers[-1]
        self.trainable_layers = [layer for layer in self.layers if is_trainable(layer)]
        if isinstance(self.output_layer, _Softmax) and isinstance(self.loss, CategoricalCrossEntropy):
            self.softmax_cross_entropy = SoftmaxCrossEntropy()
        else:
            self.softmax_cross_entropy = None
        # Only the first layer's inputs are the data, whose gradient nothing reads.
        for i, layer in enumerate(self.layers):
            layer.input_gradient = i > 0
        self.finalized = True
        ### END SOLUTION

    # ------------------------------------------------------------------ the passes

    def forward(self, X, training):
        """X: (N, n_inputs); training: bool, passed on to every layer.

        returns: the last layer's output, (N, n_outputs): X through every layer in order,
                 each called as ``layer.forward(inputs, training=training)``.
        """
        ### BEGIN SOLUTION
        output = X
        for layer in self.layers:
            output = layer.forward(output, training=training)
        return output
        ### END SOLUTION

    def backward(self, output, y):
        """The backward pass after ``forward(X, training=True)`` returned ``output``.

        With ``softmax_cross_entropy`` (see ``finalize``), start from
        ``softmax_cross_entropy.backward(output, y)``: the gradient with respect to the
        *inputs* of the last layer, the ``Softmax``. Store it as that layer's ``dinputs``
        and run backward through every other layer, from the second-to-last to the first.
        Otherwise start from ``loss.backward(output, y)`` and run backward through every
        layer, from the last to the first. Each layer receives what the layer after it
        returned. Afterwards every trainable layer has its ``dweights`` and ``dbiases``
        (the first layer's return value is not used: None when it skipped its ``dinputs``).
        """
        ### BEGIN SOLUTION
        if self.softmax_cross_entropy is not None:
            dvalues = self.softmax_cross_entropy.backward(output, y)
            self.layers[-1].dinputs = dvalues
            layers = self.layers[:-1]
        else:
            dvalues = self.loss.backward(output, y)
            layers = self.layers
        for layer in reversed(layers):
            dvalues = layer.backward(dvalues)
        ### END SOLUTION

    def regularization_loss(self):
        """float: the sum of chapter 07's ``regularization_loss`` over the trainable layers
        (a layer written without chapter 01's ``Layer`` base, and so without
        ``regularizers()``, declares no penalty)."""
        return float(sum(regularization_loss(layer) for layer in self.trainable_layers
                         if hasattr(layer, "regularizers")))

    # ------------------------------------------------------------------ training

    def train(self, X, y, epochs=1, batch_size=None, validation_data=None, rng=None, print_every=0,
              progress=True):
        """Train the model with mini-batches and return the history.

        X: (N, n_inputs); y: the N targets; epochs: int; batch_size: int, or None for one
        batch of all N samples; validation_data: None or a tuple (X_val, y_val);
        rng: np.random.Generator for shuffling, or None to keep the samples in order;
        print_every: print a summary line every that many epochs (0: never);
        progress: show the run's progress (a bar in a terminal or a notebook, a line at every
                  tenth of the run when the output is piped; see ``progress_bar``).

        Calls ``finalize()`` first if the model is not finalized, and
        ``accuracy.init(y)`` once. Then, every epoch:

        1. ``order = rng.permutation(N)`` (exactly one draw per epoch, the only use of
           ``rng``), or ``np.arange(N)`` when rng is None; the batches are consecutive
           slices of ``order`` (``batch_slices``), the last one possibly smaller;
        2. for each batch ``Xb, yb = X[idx], y[idx]`` (the same idx for both), in order:
           ``output = forward(Xb, training=True)``; the batch's data loss
           ``loss.calculate(output, yb)``, its regularization loss
           ``self.regularization_loss()`` and its accuracy
           ``accuracy.calculate(output_layer.predictions(output), yb)``, all measured
           before the update; ``backward(output, yb)``; then
           ``optimizer.pre_update_params()``, ``optimizer.update_params(layer)`` for every
           trainable layer, ``optimizer.post_update_params()``;
        3. append to the history the epoch's means of the batch values, each batch
           weighted by its number of samples: ``data_loss``, ``regularization_loss``,
           ``accuracy``, and ``loss = data_loss + regularization_loss``;
        4. with validation data, append ``val_loss, val_accuracy =
           evaluate(X_val, y_val, batch_size)``, measured after the epoch's updates;
        5. with ``print_every``, print ``epoch_summary(epoch, history)`` after epochs
           print_every, 2 * print_every, ... (counting epochs from 1).

        The progress bar (given): ``bar = progress_bar(epochs * batches_per_epoch,
        enabled=progress)`` before the first epoch, ``bar.advance(status_text)`` after
        every batch, ``bar.close()`` at the end (in a ``finally``, so that an error does
        not leave the terminal in a bad state). It does nothing off a terminal.

        returns: history, a dict with a list of floats (one per epoch) under each of
                 ``HISTORY_KEYS``; ``val_loss`` and ``val_accuracy`` stay empty without
                 validation data
        """
        ### BEGIN SOLUTION
        if not self.finalized:
            self.finalize()
        X, y = np.asarray(X), np.asarray(y)
        n = len(X)
        self.accuracy.init(y)
        history = {key: [] for key in HISTORY_KEYS}
        slices = batch_slices(n, batch_size)
        bar = progress_bar(epochs * len(slices), enabled=progress)
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n) if rng is not None else np.arange(n)
                totals = {"data_loss": 0.0, "regularization_loss": 0.0, "accuracy": 0.0}
                for part in slices:
                    idx = order[part]
                    Xb, yb = X[idx], y[idx]
                    output = self.forward(Xb, training=True)
                    data_loss = self.loss.calculate(output, yb)
                    reg_loss = self.regularization_loss()
                    accuracy = self.accuracy.calculate(self.output_layer.predictions(output), yb)
                    self.backward(output, yb)
                    self.optimizer.pre_update_params()
                    for layer in self.trainable_layers:
                        self.optimizer.update_params(layer)
                    self.optimizer.post_update_params()
                    totals["data_loss"] += data_loss * len(idx)
                    totals["regularization_loss"] += reg_loss * len(idx)
                    totals["accuracy"] += accuracy * len(idx)
                    bar.advance(f"epoch {epoch}/{epochs}  loss {data_loss + reg_loss:.3f}  acc {accuracy:.3f}")
                for key, total in totals.items():
                    history[key].append(float(total / n))
                history["loss"].append(history["data_loss"][-1] + history["regularization_loss"][-1])
                if validation_data is not None:
                    val_loss, val_accuracy = self.evaluate(*validation_data, batch_size=batch_size)
                    history["val_loss"].append(val_loss)
                    history["val_accuracy"].append(val_accuracy)
                if print_every and epoch % print_every == 0:
                    print(epoch_summary(epoch, history))
        finally:
            bar.close()
        return history
        ### END SOLUTION

    # ------------------------------------------------------------------ using the model

    def evaluate(self, X, y, batch_size=None):
        """Loss and accuracy on a data set, with nothing trained and dropout off.

        X: (N, n_inputs); y: the N targets; batch_size: int, or None for one batch.
        Calls ``finalize()`` first if needed, and ``accuracy.init(y)`` (which keeps a
        precision that is already set). Goes through the batches in order (no
        shuffling), with ``forward(Xb, training=False)``.

        returns: (data loss, accuracy), two floats: the means over all N samples, so each
                 batch's mean loss and accuracy count in proportion to its number of
                 samples; the result does not depend on ``batch_size``. The loss is the
                 data loss only (no regularization penalty).
        """
        ### BEGIN SOLUTION
        if not self.finalized:
            self.finalize()
        X, y = np.asarray(X), np.asarray(y)
        n = len(X)
        self.accuracy.init(y)
        total_loss = total_accuracy = 0.0
        for part in batch_slices(n, batch_size):
            Xb, yb = X[part], y[part]
            output = self.forward(Xb, training=False)
            count = len(Xb)
            total_loss += self.loss.calculate(output, yb) * count
            total_accuracy += self.accuracy.calculate(self.output_layer.predictions(output), yb) * count
        return float(total_loss / n), float(total_accuracy / n)
        ### END SOLUTION

    def predict(self, X, batch_size=None):
        """The model's outputs for X, with dropout off (``training=False``).

        X: (N, n_inputs); batch_size: int, or None for one batch.
        returns: (N, n_outputs), the last layer's outputs for every sample, in order (the
                 batches' outputs stacked); the same whatever the batch size. Turn them
                 into predictions with ``model.output_layer.predictions(outputs)``.
        """
        ### BEGIN SOLUTION
        if not self.finalized:
            self.finalize()
        X = np.asarray(X)
        outputs = [self.forward(X[part], training=False) for part in batch_slices(len(X), batch_size)]
        return np.concatenate(outputs, axis=0)
        ### END SOLUTION

    # ------------------------------------------------------------------ parameters

    def get_parameters(self):
        """The learned state of every layer that has some, as new arrays (copies).

        returns: dict {``parameter_key(i, name)``: array} for every layer ``i`` of
                 ``layers`` (its index in the list) and every ``name, array`` in
                 ``layer_arrays(layer)`` (its ``parameters()`` then its ``buffers()``);
                 e.g. ``{"layer0.weights": (2, 64), "layer0.biases": (1, 64),
                 "layer3.weights": (64, 3), ...}``
        """
        ### BEGIN SOLUTION
        params = {}
        for i, layer in enumerate(self.layers):
            for name, value in layer_arrays(layer).items():
                params[parameter_key(i, name)] = np.array(value, dtype=np.float64, copy=True)
        return params
        ### END SOLUTION

    def set_parameters(self, params):
        """Put parameters (as ``get_parameters`` returns them) into the layers.

        params: dict {name: array}; it must have exactly the keys ``get_parameters``
                would return, each array with the shape of the array it replaces.
        The values are copied into the layers' own arrays (those of ``layer_arrays``), in
        place: the layers never hold the caller's arrays themselves, and an optimizer's
        state for a parameter stays attached to it.
        raises: ValueError, naming the key, when a key is missing or unexpected, or a
                shape differs; nothing is changed then.
        """
        ### BEGIN SOLUTION
        expected = {}
        for i, layer in enumerate(self.layers):
            for name, array in layer_arrays(layer).items():
                expected[parameter_key(i, name)] = array
        missing = sorted(set(expected) - set(params))
        unexpected = sorted(set(params) - set(expected))
        if missing or unexpected:
            raise ValueError(f"the parameters do not fit this model: missing {missing}, unexpected {unexpected}")
        values = {}
        for key, array in expected.items():
            value = np.asarray(params[key])
            if value.dtype.kind not in "iuf":
                raise ValueError(f"parameter {key} has dtype {value.dtype}, expected numbers")
            want = np.shape(array)
            if value.shape != want:
                raise ValueError(f"parameter {key} has shape {value.shape}, but this model's is {want}")
            values[key] = value
        for key, array in expected.items():
            array[...] = values[key]
        ### END SOLUTION

    def save_parameters(self, path):
        """Write ``get_parameters()`` to ``path`` (ending in ``.npz``) with ``np.savez``:
        one array per key, nothing else."""
        ### BEGIN SOLUTION
        np.savez(path, **self.get_parameters())
        ### END SOLUTION

    def load_parameters(self, path):
        """Read a file written by ``save_parameters`` (with ``read_arrays``, so without
        pickle) and ``set_parameters`` from it. The model must have the same layers as
        the one that saved the file (ValueError otherwise, from ``set_parameters``)."""
        ### BEGIN SOLUTION
        self.set_parameters(read_arrays(path))
        ### END SOLUTION

    # ------------------------------------------------------------------ the whole model

    def architecture(self):
        """The JSON-ready description of the model (everything but the parameters)::

            {"format": FORMAT, "version": VERSION,
             "layers": [layer_spec(layer) for each layer],
             "loss": object_spec(loss, LOSSES, "loss"),
             "accuracy": object_spec(accuracy, ACCURACIES, "accuracy"),
             "optimizer": object_spec(optimizer, OPTIMIZERS, "optimizer")}

        ``layer_spec`` and ``object_spec`` (in ``saving.py``) raise ValueError for a class
        that is not in the allow-lists: such a model cannot be saved.
        """
        return {
            "format": FORMAT,
            "version": VERSION,
            "layers": [layer_spec(layer) for layer in self.layers],
            "loss": object_spec(self.loss, LOSSES, "loss"),
            "accuracy": object_spec(self.accuracy, ACCURACIES, "accuracy"),
            "optimizer": object_spec(self.optimizer, OPTIMIZERS, "optimizer"),
        }

    def save(self, path):
        """Write the whole model to one ``.npz`` file at ``path``: the arrays of
        ``get_parameters()`` plus ``encode_architecture(self.architecture())`` under
        ``ARCHITECTURE_KEY``; written with ``np.savez``. No pickle anywhere: every entry
        is a plain numeric array."""
        ### BEGIN SOLUTION
        arrays = self.get_parameters()
        arrays[ARCHITECTURE_KEY] = encode_architecture(self.architecture())
        np.savez(path, **arrays)
        ### END SOLUTION

    @classmethod
    def load(cls, path, rng=None):
        """A new, finalized model rebuilt from a file written by ``save``.

        path: str or path-like; rng: np.random.Generator given to the layers that take one
        (``NEEDS_RNG``: the initial weights of a ``Dense`` are replaced right away; a
        ``Dropout`` draws its masks from it if you train on); None means
        ``np.random.default_rng(0)``.

        Treat the file as untrusted: read it with ``read_arrays`` (never with pickle);
        ``decode_architecture`` the entry ``ARCHITECTURE_KEY``; rebuild each layer, the
        loss, the accuracy and the optimizer (if not null) with ``build_object`` and
        their allow-lists; ``finalize``; then ``set_parameters`` with the remaining
        arrays, which checks every name and shape.

        raises: ValueError when anything in the file is missing, unknown or does not fit
        """
        ### BEGIN SOLUTION
        arrays = read_arrays(path)
        if ARCHITECTURE_KEY not in arrays:
            raise ValueError(f"{path} has no {ARCHITECTURE_KEY!r} entry: not a model file (saved with "
                             "save_parameters? load it with load_parameters)")
        spec = decode_architecture(arrays.pop(ARCHITECTURE_KEY))
        layers = spec.get("layers")
        if not isinstance(layers, list) or not layers:
            raise ValueError("the architecture has no list of layers")
        if rng is None:
            rng = np.random.default_rng(0)
        model = cls()
        for entry in layers:
            model.add(build_object(entry, LAYERS, rng, NEEDS_RNG))
        model.set(loss=build_object(spec.get("loss"), LOSSES),
                  accuracy=build_object(spec.get("accuracy"), ACCURACIES))
        if spec.get("optimizer") is not None:
            model.set(optimizer=build_object(spec["optimizer"], OPTIMIZERS))
        model.finalize()
        model.set_parameters(arrays)
        return model
        ### END SOLUTION


def epoch_summary(epoch, history):
    """One line (a str) about the last epoch of ``history``, numbered ``epoch``."""
    text = (f"epoch {epoch}: loss {history['loss'][-1]:.4f} (data {history['data_loss'][-1]:.4f}, "
            f"regularization {history['regularization_loss'][-1]:.4f}), accuracy {history['accuracy'][-1]:.3f}")
    if history["val_loss"]:
        text += f"; validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_accuracy'][-1]:.3f}"
    return text
