"""The layer contract and the parameter interface hold for a layer the course has never seen.

``Toy`` is defined only here: three parameters with names no course code knows. Through
``parameters()`` / ``gradients()`` / ``trainable`` alone it trains with every optimizer, is
clipped, frozen, saved and loaded by the ``Model`` of the latest chapter, unchanged. A
second group of tests reads the course's source: no code finds parameters by switching on
a layer's class name, and every chapter's package exposes every earlier chapter's names.
"""

import ast
import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest

from grader.chapters import is_chapter_dir

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(
    p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and is_chapter_dir(p.name)
)


def _package(root, chapter):
    return importlib.import_module(f"{root}.{chapter}")


def _latest_with(*names):
    """The latest chapter's solutions package that has all of ``names``."""
    for chapter in reversed(CHAPTERS):
        pkg = _package("solutions", chapter)
        if all(hasattr(pkg, n) for n in names):
            return pkg
    pytest.fail(f"no chapter exposes {names}")


course = _latest_with("Model", "Layer", "Optimizer", "register_layer")


class Toy(course.Layer):
    """out = (inputs @ mix) * gain + offset: parameters "mix", "gain", "offset"."""

    def __init__(self, n_in, n_out, rng):
        self.n_in, self.n_out = n_in, n_out
        self.mix = 0.5 * rng.standard_normal((n_in, n_out))
        self.gain = np.ones((1, n_out))
        self.offset = np.zeros((1, n_out))

    def forward(self, inputs, training=False):
        self.inputs = inputs
        self.z = inputs @ self.mix
        self.output = self.z * self.gain + self.offset
        return self.output

    def backward(self, dvalues):
        dz = dvalues * self.gain
        self.dmix = self.inputs.T @ dz
        self.dgain = np.sum(dvalues * self.z, axis=0, keepdims=True)
        self.doffset = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = dz @ self.mix.T
        return self.dinputs

    def parameters(self):
        return {"mix": self.mix, "gain": self.gain, "offset": self.offset}

    def gradients(self):
        return {"mix": self.dmix, "gain": self.dgain, "offset": self.doffset}


def _problem(seed=0, n=64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ rng.normal(size=(3, 2)) * 1.5 + 0.3
    return X, y


def _model(toy, optimizer):
    model = course.Model()
    model.add(toy)
    model.add(course.Linear())
    model.set(
        loss=course.MeanSquaredError(), optimizer=optimizer, accuracy=course.AccuracyRegression()
    )
    model.finalize()
    return model


def _optimizers():
    """One instance of every optimizer the course exports (found, not listed), plus momentum."""
    found = {
        name: cls
        for name, cls in vars(course).items()
        if inspect.isclass(cls)
        and issubclass(cls, course.Optimizer)
        and cls is not course.Optimizer
    }
    rates = {"SGD": 0.05, "Adagrad": 0.3, "RMSprop": 0.02, "Adam": 0.05}
    cases = [
        pytest.param(cls(learning_rate=rates.get(name, 0.01)), id=name)
        for name, cls in sorted(found.items())
    ]
    cases.append(pytest.param(course.SGD(learning_rate=0.05, momentum=0.9), id="SGD-momentum"))
    return cases


@pytest.mark.parametrize("optimizer", _optimizers())
def test_toy_layer_trains_with_every_optimizer(optimizer):
    X, y = _problem()
    toy = Toy(3, 2, np.random.default_rng(1))
    before = {k: v.copy() for k, v in toy.parameters().items()}
    history = _model(toy, optimizer).train(
        X, y, epochs=30, batch_size=16, rng=np.random.default_rng(2), progress=False
    )
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    for name, value in toy.parameters().items():
        assert not np.allclose(value, before[name]), f"{name} never changed"
    assert {n for (layer, n) in optimizer.state if layer is toy} == {"mix", "gain", "offset"}


def test_frozen_toy_layer_is_left_alone():
    X, y = _problem()
    frozen, free = Toy(3, 4, np.random.default_rng(1)), course.Dense(4, 2, np.random.default_rng(3))
    frozen.trainable = False
    before = {k: v.copy() for k, v in frozen.parameters().items()}
    optimizer = course.Adam(learning_rate=0.05)
    model = course.Model()
    for layer in (frozen, free, course.Linear()):
        model.add(layer)
    model.set(
        loss=course.MeanSquaredError(), optimizer=optimizer, accuracy=course.AccuracyRegression()
    )
    history = model.train(
        X, y, epochs=20, batch_size=16, rng=np.random.default_rng(2), progress=False
    )
    assert history["loss"][-1] < history["loss"][0]  # the free layer learned
    for name, value in frozen.parameters().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    assert not [key for key in optimizer.state if key[0] is frozen], (
        "state was created for a frozen layer"
    )
    assert {name for (layer, name) in optimizer.state if layer is free} == {"weights", "biases"}


def test_toy_layer_gradients_are_clipped():
    """Clipping by global norm (chapter 11's clip_grad_norm) reaches the toy's gradients
    through gradients() and scales them in place."""
    owners = [c for c in CHAPTERS if hasattr(_package("solutions", c), "clip_grad_norm")]
    if not owners:
        pytest.skip("no chapter has a clip_grad_norm yet")
    clip = _package("solutions", owners[-1]).clip_grad_norm
    X, y = _problem()
    toy = Toy(3, 2, np.random.default_rng(1))
    loss = course.MeanSquaredError()
    toy.backward(loss.backward(toy.forward(X) * 100.0, y))
    grads = {k: v.copy() for k, v in toy.gradients().items()}
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    assert norm > 1.0
    assert clip([toy], 1.0) == pytest.approx(norm)
    clipped = toy.gradients()
    assert np.sqrt(sum(np.sum(g**2) for g in clipped.values())) == pytest.approx(1.0)
    for name, g in grads.items():
        np.testing.assert_allclose(clipped[name], g / norm, err_msg=name)


def test_toy_layer_is_saved_and_loaded_by_the_model(tmp_path):
    X, y = _problem()
    toy = Toy(3, 2, np.random.default_rng(1))
    model = _model(toy, course.Adam(learning_rate=0.05))
    model.train(X, y, epochs=5, batch_size=16, rng=np.random.default_rng(2), progress=False)
    params = model.get_parameters()
    assert sorted(params) == ["layer0.gain", "layer0.mix", "layer0.offset"]

    # Parameters only: into a fresh model of the same layers, in place.
    model.save_parameters(tmp_path / "toy-params.npz")
    other = Toy(3, 2, np.random.default_rng(99))
    mix_array = other.mix
    _model(other, course.Adam()).load_parameters(tmp_path / "toy-params.npz")
    assert other.mix is mix_array  # filled in place: an optimizer's state stays attached
    for name, value in other.parameters().items():
        np.testing.assert_array_equal(value, params[f"layer0.{name}"])

    # The whole model: the layer class is allowed in model files with one call.
    saving = importlib.import_module(f"{type(model).__module__.rsplit('.', 1)[0]}.saving")
    course.register_layer(Toy, args=("n_in", "n_out"))
    try:
        model.save(tmp_path / "toy-model.npz")
        loaded = type(model).load(tmp_path / "toy-model.npz")
    finally:
        saving.LAYERS.pop("Toy", None)
        if "Toy" in saving.NEEDS_RNG:
            saving.NEEDS_RNG.remove("Toy")
    assert isinstance(loaded.layers[0], Toy)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


# ------------------------------------------------------------------ the source


def _parameter_layer_names():
    """Class names of every layer with parameters in any chapter (found, so new chapters count)."""
    names = set()
    for chapter in CHAPTERS:
        for obj in vars(_package("solutions", chapter)).values():
            if inspect.isclass(obj) and callable(getattr(obj, "parameters", None)):
                base = getattr(course, "Layer", object)
                if obj is not base and getattr(obj, "parameters") is not getattr(
                    base, "parameters", None
                ):
                    names.add(obj.__name__)
    return names


PRAGMA = "# kind:"  # a grader test checking *which* layers a student built (not their parameters)


def _switches(tree, names, lines=()):
    """(line, text) of comparisons with a layer class name and isinstance checks on one,
    except on lines that say why with the PRAGMA comment."""
    found = []

    def literal_names(node):
        if isinstance(node, ast.Constant) and node.value in names:
            return [node.value]
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [n for elt in node.elts for n in literal_names(elt)]
        return []

    def class_refs(node):
        if isinstance(node, ast.Name) and node.id in names:
            return [node.id]
        if isinstance(node, ast.Attribute) and node.attr in names:
            return [node.attr]
        if isinstance(node, ast.Tuple):
            return [n for elt in node.elts for n in class_refs(elt)]
        return []

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if literal_names(side):
                    found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
        ):
            if class_refs(node.args[1]):
                found.append((node.lineno, ast.unparse(node)))
    return [
        (line, text)
        for line, text in found
        if not (line <= len(lines) and PRAGMA in lines[line - 1])
    ]


def test_no_code_switches_on_a_layer_class_name():
    """Parameters are found through parameters()/gradients()/buffers(), never by asking
    whether a layer is a Dense or a BatchNorm. Data that describes layer kinds (a table
    keyed by class name, as model files name them) is fine; a comparison is not. Only a
    grader test that checks the *architecture* a student built may compare kinds, on a line
    marked with the PRAGMA comment; course code (solutions, reference) never does."""
    names = _parameter_layer_names() | {"Dense", "BatchNorm"}
    offenders = []
    for top in ("solutions", "reference", "grader/suites"):
        for path in sorted((ROOT / top).rglob("*.py")):
            source = path.read_text()
            lines = source.split("\n") if top == "grader/suites" else ()
            for line, text in _switches(ast.parse(source), names, lines):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert not offenders, "code that switches on a layer's class name:\n" + "\n".join(offenders)


def test_the_scan_recognises_a_switch():
    code = (
        "if type(layer).__name__ == 'Dense': pass\n"
        "if entry['class'] in ('ReLU', 'BatchNorm'): pass\n"
        "ok = isinstance(layer, (Dense, Conv))\n"
        "table = {'Dense': ('weights', 'biases')}\n"
    )
    assert [line for line, _ in _switches(ast.parse(code), {"Dense", "BatchNorm"})] == [1, 2, 3]


# ------------------------------------------------------------------ exports


@pytest.mark.parametrize("root", ["solutions", "exercises"])
def test_every_chapter_exposes_every_earlier_name(root):
    """A chapter's package exposes the current version of every class of the course so far."""
    problems = []
    earlier = []
    for chapter in CHAPTERS:
        pkg = _package(root, chapter)
        names = list(getattr(pkg, "__all__", []))
        if len(names) != len(set(names)):
            problems.append(f"{chapter}: __all__ lists a name twice")
        missing_attr = [n for n in names if not hasattr(pkg, n)]
        if missing_attr:
            problems.append(
                f"{chapter}: __all__ names what the package does not have: {missing_attr}"
            )
        lost = [n for n in earlier if n not in names]
        if lost:
            problems.append(f"{chapter}: does not expose earlier names {lost}")
        earlier = names
    assert not problems, "\n".join(problems)


def test_chapter_inits_state_only_their_new_names():
    """Each chapter's __init__ takes the course so far from the previous chapter in one
    star import; its own list names only what it adds or replaces."""
    problems = []
    for previous, chapter in zip(CHAPTERS, CHAPTERS[1:]):
        source = (ROOT / "solutions" / chapter / "__init__.py").read_text()
        tree = ast.parse(source)
        star = [
            n
            for n in tree.body
            if isinstance(n, ast.ImportFrom)
            and n.level == 2
            and any(a.name == "*" for a in n.names)
        ]
        if [n.module for n in star] != [previous]:
            problems.append(
                f"{chapter}: takes the course so far from {[n.module for n in star]}, not {previous}"
            )
        earlier = set(_package("solutions", previous).__all__)
        own = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier()
        ]
        restated = [n for n in own if n in earlier and n not in _replaced(chapter, previous)]
        if restated:
            problems.append(f"{chapter}: restates earlier names {restated}")
    assert not problems, "\n".join(problems)


def _replaced(chapter, previous):
    """Names whose object differs from the previous chapter's (the chapter replaces them)."""
    new, old = _package("solutions", chapter), _package("solutions", previous)
    return {n for n in old.__all__ if getattr(new, n, None) is not getattr(old, n)}


def test_a_lenet_is_saved_and_loaded_whole_by_the_model(tmp_path):
    """Chapter 10 registers its layers for model files: Model.save / Model.load rebuild a
    LeNet-5 that predicts exactly what the saved one did."""
    ch10 = importlib.import_module("solutions.ch10_convnets")
    rng = np.random.default_rng(3)
    model = ch10.build_lenet(rng)
    x = rng.standard_normal((3, 1, 28, 28))
    path = tmp_path / "lenet.npz"
    model.save(str(path))
    loaded = ch10.Model.load(str(path))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
