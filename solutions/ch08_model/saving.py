"""The model file format: numpy arrays and a JSON description, and nothing that runs.

A saved model is one ``.npz`` file (a zip archive of ``.npy`` arrays, written by
``np.savez``) holding

- one array per saved parameter, named ``layer{i}.{name}``: ``i`` is the layer's index in
  ``model.layers`` and ``name`` one of ``parameter_names(layer)`` (the names of the layer's
  ``parameters()`` and then of its ``buffers()``, chapter 01's layer contract), e.g.
  ``layer0.weights``, ``layer0.biases``, ``layer3.running_mean``;
- one array named ``architecture``: the UTF-8 bytes of a JSON document, as a 1-d
  ``uint8`` array, describing everything else (see ``architecture`` in ``model.py``).

Every entry is a plain numeric array, so the file loads with
``np.load(path, allow_pickle=False)``. A file that needs pickle to load is refused, and
the JSON may only name classes from the allow-lists below: loading a file that came from
someone else can never run code of their choosing.
"""

import inspect
import json
import math

import numpy as np

from ..ch07_generalization import (
    SGD,
    Adagrad,
    Adam,
    BatchNorm,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Dense,
    Dropout,
    LeakyReLU,
    MeanAbsoluteError,
    MeanSquaredError,
    ReLU,
    RMSprop,
    Tanh,
)
from .accuracy import AccuracyBinary, AccuracyCategorical, AccuracyRegression
from .activations import Linear, Sigmoid, Softmax

FORMAT = "nn-from-scratch-model"
VERSION = 1
ARCHITECTURE_KEY = "architecture"

# The allow-lists: class name in the file -> (class, the constructor arguments the file
# may give). Nothing else can be named in a model file. A layer's constructor arguments
# are read back from the layer's attributes of the same names when it is saved.
LAYERS = {
    "Dense": (Dense, ("n_inputs", "n_neurons", "weight_regularizer_l1", "weight_regularizer_l2",
                      "bias_regularizer_l1", "bias_regularizer_l2")),
    "BatchNorm": (BatchNorm, ("n_features", "momentum", "epsilon")),
    "Dropout": (Dropout, ("rate",)),
    "ReLU": (ReLU, ()),
    "LeakyReLU": (LeakyReLU, ("alpha",)),
    "Tanh": (Tanh, ()),
    "Sigmoid": (Sigmoid, ()),
    "Softmax": (Softmax, ()),
    "Linear": (Linear, ()),
}
LOSSES = {
    "CategoricalCrossEntropy": (CategoricalCrossEntropy, ()),
    "BinaryCrossEntropy": (BinaryCrossEntropy, ()),
    "MeanSquaredError": (MeanSquaredError, ()),
    "MeanAbsoluteError": (MeanAbsoluteError, ()),
}
ACCURACIES = {
    "AccuracyCategorical": (AccuracyCategorical, ()),
    "AccuracyBinary": (AccuracyBinary, ()),
    "AccuracyRegression": (AccuracyRegression, ("precision",)),
}
OPTIMIZERS = {
    "SGD": (SGD, ("learning_rate", "decay", "momentum")),
    "Adagrad": (Adagrad, ("learning_rate", "decay", "epsilon")),
    "RMSprop": (RMSprop, ("learning_rate", "decay", "epsilon", "rho")),
    "Adam": (Adam, ("learning_rate", "decay", "epsilon", "beta_1", "beta_2")),
}


def _takes_rng(cls):
    return "rng" in inspect.signature(cls).parameters


# Layers whose constructor also takes a Generator (it is not part of the file).
NEEDS_RNG = [name for name, (cls, _) in LAYERS.items() if _takes_rng(cls)]


def register_layer(cls, args=()):
    """Allow a layer class in model files (the way a later chapter adds its layers).

    cls:  a layer class following the course's layer contract; its parameters are found
          through ``parameters()`` and ``buffers()``, so nothing else needs to know it
    args: the names of the constructor arguments a file gives it; the layer must keep
          each as an attribute of the same name (numbers only); a constructor argument
          ``rng`` is given the loader's Generator
    The class is named in files by its class name.
    """
    name = cls.__name__
    LAYERS[name] = (cls, tuple(args))
    if _takes_rng(cls) and name not in NEEDS_RNG:
        NEEDS_RNG.append(name)


def parameter_names(layer):
    """The names of the arrays that hold a layer's learned state, in the order they are
    saved: the names of ``layer.parameters()`` then those of ``layer.buffers()``.
    ``("weights", "biases")`` for a ``Dense``; ``("gamma", "beta", "running_mean",
    "running_var")`` for a ``BatchNorm`` (its running statistics are not trained, but
    predictions need them); ``()`` for a layer without parameters."""
    return tuple(layer_arrays(layer))


def layer_arrays(layer):
    """{name: array} of every saved array of a layer (``parameters()`` then ``buffers()``):
    the layer's own arrays, to read or to fill in place."""
    buffers = getattr(layer, "buffers", None)  # chapter 01's Layer gives every layer one
    return {**layer.parameters(), **(buffers() if buffers is not None else {})}


def parameter_key(index, name):
    """The name of a parameter array in a file: ``parameter_key(3, "weights")`` is
    ``"layer3.weights"``."""
    return f"layer{index}.{name}"


def _class_name(obj, registry, what):
    name = type(obj).__name__
    if name not in registry:
        raise ValueError(f"cannot save a {what} of class {name}: a model file may only contain "
                         f"{', '.join(registry)}")
    return name


def layer_spec(layer):
    """The JSON-ready description of a layer: ``{"class": name, "args": {...}}`` with the
    constructor arguments that rebuild it (its parameters are saved as arrays), read from
    the layer's attributes of the same names."""
    name = _class_name(layer, LAYERS, "layer")
    args = {}
    for key in LAYERS[name][1]:
        value = getattr(layer, key)
        is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        args[key] = int(value) if is_int else float(value)
    return {"class": name, "args": args}


def object_spec(obj, registry, what):
    """The JSON-ready description of a loss, accuracy or optimizer: its class name and
    the values of the constructor arguments the registry lists for it (None stays None).
    ``obj`` None gives None."""
    if obj is None:
        return None
    name = _class_name(obj, registry, what)
    args = {}
    for key in registry[name][1]:
        value = getattr(obj, key)
        args[key] = None if value is None else float(value)
    return {"class": name, "args": args}


def encode_architecture(spec):
    """spec: a dict of JSON data (str, numbers, lists, dicts, None).

    returns: 1-d uint8 array, the UTF-8 bytes of ``json.dumps(spec)``, ready to be saved
             next to the parameters.
    """
    ### BEGIN SOLUTION
    text = json.dumps(spec, allow_nan=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()
    ### END SOLUTION


def decode_architecture(array):
    """The inverse of ``encode_architecture``, for an array read from a file that may come
    from anyone.

    array: what the file holds under ``"architecture"``
    returns: the decoded JSON document, a dict
    raises:  ValueError unless ``array`` is a 1-d uint8 array of UTF-8 JSON text whose
             top level is an object with ``"format" == FORMAT`` and ``"version" == VERSION``
    """
    ### BEGIN SOLUTION
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError(f"the architecture must be a 1-d uint8 array of UTF-8 JSON, got "
                         f"{array.dtype} of shape {array.shape}")
    try:
        spec = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the architecture is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError("the architecture must be a JSON object")
    if spec.get("format") != FORMAT or spec.get("version") != VERSION:
        raise ValueError(f"not a model file of this course (format {spec.get('format')!r}, version "
                         f"{spec.get('version')!r}; expected {FORMAT!r}, version {VERSION})")
    return spec
    ### END SOLUTION


def build_object(entry, registry, rng=None, needs_rng=()):
    """Rebuild one layer, loss, accuracy or optimizer from its description in a file.

    entry:     ``{"class": name, "args": {...}}`` as read from the JSON (untrusted)
    registry:  one of the allow-lists above (``LAYERS``, ``LOSSES``, ...)
    rng:       np.random.Generator passed as ``rng`` to the classes named in ``needs_rng``
    returns:   ``cls(**args)`` (plus ``rng``), where ``cls`` comes from the registry
    raises:    ValueError, with a message naming the problem, when ``entry`` is not a dict
               with a str ``"class"`` and a dict ``"args"``; when the class is not in the
               registry (say which classes are allowed); when ``args`` has a name the
               registry does not list for that class; or when a value is not a number
               (an int or a float; bools excluded; finite) or None.
    """
    ### BEGIN SOLUTION
    if not isinstance(entry, dict) or not isinstance(entry.get("class"), str) \
            or not isinstance(entry.get("args", {}), dict):
        raise ValueError(f"malformed entry {entry!r}: expected {{'class': name, 'args': {{...}}}}")
    name, args = entry["class"], entry.get("args", {})
    if name not in registry:
        raise ValueError(f"unknown class {name!r} in the model file: only {', '.join(registry)} "
                         "are allowed here")
    cls, allowed = registry[name]
    for key, value in args.items():
        if key not in allowed:
            raise ValueError(f"{name} does not take the argument {key!r} (allowed: {', '.join(allowed) or 'none'})")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name}: argument {key!r} must be a finite number, got {value!r}")
    if name in needs_rng:
        return cls(rng=rng if rng is not None else np.random.default_rng(0), **args)
    return cls(**args)
    ### END SOLUTION


def read_arrays(path):
    """Every array of an ``.npz`` file, read without pickle.

    path:    str or path-like
    returns: dict {name: np.ndarray}
    raises:  ValueError (numpy's) when an entry is an object array: ``np.load`` is called
             with ``allow_pickle=False``, so a pickled object is refused, never unpickled
    """
    ### BEGIN SOLUTION
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}
    ### END SOLUTION
