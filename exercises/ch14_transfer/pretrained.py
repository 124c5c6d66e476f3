# Generated from solutions/ch14_transfer/pretrained.py by `nox -s stubs`: fill in the TODOs below.
"""Loading pretrained weights into your own layers, and checking that they landed right.

The course ships a LeNet-5 trained on the digits 0-4 (``data/pretrained/``, made by the
course's reference implementation with a fixed recipe) as two files in chapter 08's model format:

- ``lenet-digits04.npz``: the arrays ``layer{i}.{name}`` (``i``: the layer's index in
  ``build_lenet(rng).layers``, ``name``: a key of its ``parameters()``) and the
  ``architecture`` JSON;
- ``lenet-digits04-check.npz``: ``inputs`` (8, 1, 28, 28), eight images, and ``outputs``
  (8, 10), the probabilities the network gives them.

A file whose arrays all have the right shapes can still be loaded wrong: a kernel stored
with its two spatial axes swapped has the same shape. So loading ends with a forward pass
on the shipped inputs, which must give the shipped outputs.
"""

from pathlib import Path

import numpy as np

from ..ch08_model.saving import layer_arrays
from ..ch13_generative import ARCHITECTURE_KEY, build_lenet, read_arrays

PRETRAINED_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "pretrained"
MODEL_FILE = "lenet-digits04.npz"
CHECK_FILE = "lenet-digits04-check.npz"
ENCODER_FILE = "encoder-mlm.npz"
ENCODER_CHECK_FILE = "encoder-mlm-check.npz"
CHECK_ATOL = 1e-6


def copy_parameters(layers, arrays):
    """Copy a model file's arrays into layers, in place.

    layers: list of layers (a ``Model``'s ``layers``); arrays: {``"layer{i}.{name}"``:
    array}, the file's arrays without ``"architecture"``.

    For every layer ``i`` and every ``name, array`` of ``layer_arrays(layers[i])`` (its
    ``parameters()`` then its ``buffers()``), write ``arrays[f"layer{i}.{name}"]`` into the
    layer's own array (``array[...] = value``: the layer keeps its arrays, so an optimizer
    or a handle that holds them sees the new values).

    Check every key and shape first and change nothing when one is wrong:
    raises ValueError, naming the key, when a key is missing, when ``arrays`` has a key that
    no layer has, or when an array's shape differs from the layer's; when its shape is the
    layer's shape reversed (a (120, 400) matrix for a (400, 120) Dense), the message says
    the array looks **transposed**.
    """
    # TODO(ch14): implement copy_parameters (the docstring gives the shapes).
    raise NotImplementedError("ch14: implement copy_parameters")


def check_forward(model, inputs, outputs, atol=CHECK_ATOL):
    """Does the loaded model reproduce the shipped outputs?

    model: a finalized ``Model``; inputs: (N, 1, 28, 28); outputs: (N, 10), what the
    network that made the file gives for ``inputs``.

    returns: the largest absolute difference between ``model.predict(inputs)`` and
             ``outputs`` (a float), when it is at most ``atol``
    raises:  ValueError when the shapes differ or the difference is larger than ``atol``;
             the message gives the difference and says what usually causes it: weights
             loaded into the wrong layers, or a kernel transposed.
    """
    # TODO(ch14): implement check_forward (the docstring gives the shapes).
    raise NotImplementedError("ch14: implement check_forward")


def load_pretrained(model_path, check_path, rng):
    """The shipped network in your own layers, checked.

    ``model = build_lenet(rng)`` (chapter 10: the same layers, in the same order); read the
    model file with ``read_arrays`` (no pickle) and drop its ``ARCHITECTURE_KEY`` entry;
    ``copy_parameters(model.layers, arrays)``; read the check file and
    ``check_forward(model, check["inputs"], check["outputs"])``.

    model_path, check_path: paths of the two files; rng: np.random.Generator (build_lenet's
    initial weights, all replaced). returns: the model. raises: ValueError (from the checks).
    """
    # TODO(ch14): implement load_pretrained (the docstring gives the shapes).
    raise NotImplementedError("ch14: implement load_pretrained")
