"""Chapter 08: parameters and whole models in files, without pickle.

Files are written and read by your code in the worker's scratch folder. The grader opens
the files your code writes itself, with ``np.load(..., allow_pickle=False)`` (the worker
reads the bytes back with numpy, nothing of yours), and it writes files for your
``Model.load`` to read: well-formed ones in the documented format, malformed ones, and
files with a pickled payload that, if unpickled, calls ``numpy.save`` to leave a marker
file behind. Your loader must refuse those without running them.
"""

import io
import json

from grader.api import (
    Rng,
    StudentError,
    check_array,
    check_scalar,
    check_true,
    fail,
    keep,
    np,
    points,
    pytest,
    read_scratch_file,
    write_scratch_file,
    reference,
)
from grader.npzfile import NpzError, load_npz
from grader.suites.common import dense, draw_params, layer, saved_names, trained_names

ref = reference("ch08_model")


# ----------------------------------------------------------------------------- helpers


def build(student, arch, params, *, optimizer=None, dropout_seed=7):
    """Your Model (softmax cross-entropy, categorical accuracy) with arch and params.
    returns (model, layer handles)."""
    model = student.Model()
    handles = []
    for i, entry in enumerate(arch):
        cls, a = entry["class"], dict(entry.get("args", {}))
        if cls == "Dense":  # kind: its constructor takes the sizes and a Generator
            h = student.Dense(a.pop("n_inputs"), a.pop("n_neurons"), Rng(0), **a)
        elif cls == "Dropout":
            h = student.Dropout(a["rate"], Rng(dropout_seed))
        else:
            h = getattr(student, cls)(**a)
        for name in saved_names(entry):
            setattr(h, name, params[f"layer{i}.{name}"])
        model.add(h)
        handles.append(h)
    kwargs = {"loss": student.CategoricalCrossEntropy(), "accuracy": student.AccuracyCategorical()}
    if optimizer is not None:
        kwargs["optimizer"] = getattr(student, optimizer["class"])(**optimizer["args"])
    model.set(**kwargs)
    model.finalize()
    return model, handles


def fetch(handles, arch):
    return {
        f"layer{i}.{name}": np.asarray(getattr(handles[i], name), dtype=np.float64)
        for i, entry in enumerate(arch)
        for name in saved_names(entry)
    }


def read_file(student, path, what):
    """The bytes of a file in the worker's scratch folder, read by the grader (not by your code)."""
    try:
        return read_scratch_file(student, path)
    except StudentError as exc:
        fail(
            f"{what} wrote no file {path!r} ({exc.summary})",
            "Write it with np.savez(path, ...) at exactly the path given (it ends in .npz).",
        )


def exists(student, path):
    try:
        read_scratch_file(student, path)
    except StudentError:
        return False
    return True


def write_file(student, path, data):
    """Put ``data`` (bytes) into the worker's scratch folder as ``path``."""
    write_scratch_file(student, path, data)


def npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def open_npz(data, what):
    """{name: array} of an .npz file's bytes, read here without pickle, after checking that
    its arrays' headers do not claim more memory than the grader gives them."""
    try:
        return load_npz(data)
    except NpzError as exc:
        if "pickle" in str(exc):
            fail(
                f"{what} cannot be read without pickle: {exc}",
                "Every entry of the file must be a plain numeric array (float64 parameters, uint8 JSON bytes); "
                "an object array or a pickled dict needs pickle to load, and loading pickle runs code.",
            )
        fail(f"{what} is not a valid .npz file: {exc}", "Write it with np.savez(path, **arrays).")


def expect_value_error(call, fn, hint, must_mention=None):
    """fn() must raise ValueError (whose message names ``must_mention``, if given)."""
    try:
        fn()
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        if not exc.summary.startswith("ValueError"):
            fail(f"{call} raised {exc.summary}, expected a ValueError", hint)
        if must_mention and must_mention not in exc.summary:
            fail(
                f"{call} raised a ValueError that does not name {must_mention!r}: {exc.summary}",
                "Say what is wrong: name the unknown class, the key or the argument.",
            )
        return
    fail(f"{call} returned instead of raising ValueError", hint)


# --------------------------------------------------------------------------- the models

# Deep enough that the Dense layers sit at indices 0, 2, ..., 10: sorting the keys as
# strings puts "layer10..." before "layer2...".
DEEP_ARCH = [entry for _ in range(6) for entry in (dense(4, 4), layer("Tanh"))] + [layer("Softmax")]
DEEP_DENSE = [i for i, e in enumerate(DEEP_ARCH) if trained_names(e)]

SAVE_ARCH = [
    dense(2, 8, weight_regularizer_l2=1e-3, bias_regularizer_l1=1e-4),
    layer("BatchNorm", n_features=8),
    layer("ReLU"),
    layer("Dropout", rate=0.25),
    dense(8, 8),
    layer("LeakyReLU", alpha=0.05),
    dense(8, 3),
    layer("Softmax"),
]
SAVE_OPT = {"class": "Adam", "args": {"learning_rate": 0.01, "decay": 0.001, "beta_1": 0.8}}


def _deep_inputs(oracle, keys=("P", "Q")):
    return oracle.random(
        "inputs",
        lambda rng: (rng.normal(size=(6, 4)), *[draw_params(rng, DEEP_ARCH) for _ in keys]),
    )


# ------------------------------------------------------------------------ parameters


@points(2)
def test_get_parameters_names_and_values(student, oracle):
    X, P = oracle.random(
        "inputs", lambda rng: (rng.normal(size=(5, 2)), draw_params(rng, SAVE_ARCH))
    )
    model, _ = build(student, SAVE_ARCH, P)
    got = model.get_parameters()
    call = "get_parameters() of [Dense, BatchNorm, ReLU, Dropout, Dense, LeakyReLU, Dense, Softmax]"
    if not isinstance(got, dict):
        fail(
            f"{call} must return a dict {{name: array}}, got {getattr(got, 'type_name', type(got).__name__)}"
        )
    if set(got) != set(P):
        by_position = {
            f"layer{k}.{n}" for k, i in enumerate([0, 1, 4, 6]) for n in saved_names(SAVE_ARCH[i])
        }
        hint = (
            (
                " (the layers are numbered among the layers with parameters: use each layer's index in "
                "model.layers)"
            )
            if set(got) == by_position
            else ""
        )
        fail(
            f"{call} has keys {sorted(got)}, expected {sorted(P)}{hint}",
            "One entry per array, named layer{i}.{name} with i the layer's index in model.layers and name from "
            "parameter_names(layer).",
        )
    for k in sorted(P):
        check_array(got[k], P[k], call=call, what=f"[{k!r}]")


@points(2)
def test_set_parameters_puts_copies_into_the_layers(student, oracle):
    X, P, Q = _deep_inputs(oracle)
    want = oracle.compute("want", lambda: ref.predict(DEEP_ARCH, P, X))
    model, handles = build(student, DEEP_ARCH, Q)
    kept = keep(student, P["layer0.weights"])
    model.set_parameters({**P, "layer0.weights": kept})
    check_array(
        model.predict(X), want, call="set_parameters(params), then predict(X)", inputs={"X": X}
    )
    kept.fill(0.0)
    check_array(
        model.predict(X),
        want,
        call="set_parameters(params), then a change to params['layer0.weights'], then predict(X)",
        what="output (it must not change)",
        known_bugs=[
            (
                "set_parameters keeps the caller's arrays: store copies (np.array(value, copy=True))",
                oracle.compute(
                    "zeroed",
                    lambda: ref.predict(
                        DEEP_ARCH, {**P, "layer0.weights": 0 * P["layer0.weights"]}, X
                    ),
                ),
            )
        ],
    )


@points(1)
@pytest.mark.parametrize("case", ["wrong shape", "missing key", "unexpected key"])
def test_set_parameters_rejects_what_does_not_fit(student, oracle, case):
    X, P, Q = _deep_inputs(oracle)
    model, _ = build(student, DEEP_ARCH, Q)
    before = np.asarray(model.predict(X))
    bad = dict(P)
    if case == "wrong shape":
        bad["layer2.weights"] = np.ones((4, 5))
    elif case == "missing key":
        del bad["layer4.biases"]
    else:
        bad["layer1.weights"] = np.ones((4, 4))
    expect_value_error(
        f"set_parameters(params) with a {case}",
        lambda: model.set_parameters(bad),
        "Check the names against the model's (exactly the keys get_parameters returns) and every "
        "shape before changing anything; raise ValueError naming the key.",
    )
    check_array(
        model.predict(X),
        before,
        call=f"set_parameters(params) with a {case} (which raised)",
        what="predict(X) afterwards (nothing may change when set_parameters refuses)",
        rtol=0,
        atol=0,
    )


@points(4)
def test_save_and_load_parameters_round_trip(student, oracle):
    """A model saves its parameters; a fresh model of the same architecture (other
    parameters) loads them: every layer must get its own arrays back, and the two models
    must predict the same."""
    X, P, Q = _deep_inputs(oracle)
    first, _ = build(student, DEEP_ARCH, P)
    first.save_parameters("params_round_trip.npz")
    fresh, handles = build(student, DEEP_ARCH, Q)
    fresh.load_parameters("params_round_trip.npz")
    got = fetch(handles, DEEP_ARCH)
    call = "save_parameters(path) then load_parameters(path) into a fresh model (Dense layers at 0, 2, ..., 10)"
    for i in DEEP_DENSE:
        if np.array_equal(got[f"layer{i}.weights"], P[f"layer{i}.weights"]):
            continue
        source = [
            j
            for j in DEEP_DENSE
            if np.array_equal(got[f"layer{i}.weights"], P[f"layer{j}.weights"])
        ]
        if source:
            j = source[0]
            hint = ""
            if (i, j) == (2, 10):
                hint = " (are the keys sorted as strings? 'layer10.weights' sorts before 'layer2.weights')"
            elif (i, j) == (0, 10):
                hint = " (in reverse order?)"
            fail(
                f"{call}: layer {i} got the parameters of layer {j}: they were loaded into the wrong layers{hint}",
                "Put each array into the layer its name says: layer{i}.{name} belongs to model.layers[i].",
            )
        if np.array_equal(got[f"layer{i}.weights"], Q[f"layer{i}.weights"]):
            fail(f"{call}: layer {i} kept its own weights: load_parameters did not load them")
        check_array(
            got[f"layer{i}.weights"],
            P[f"layer{i}.weights"],
            call=call,
            what=f"weights of layer {i}",
        )
    for k in sorted(P):
        check_array(got[k], P[k], call=call, what=k, rtol=0, atol=0)
    check_array(
        fresh.predict(X),
        np.asarray(first.predict(X)),
        call=call,
        what="predict(X) of the fresh model (the same as the saving model's)",
        rtol=0,
        atol=0,
    )


@points(2)
def test_parameters_file_is_a_plain_npz(student, oracle):
    X, P, Q = _deep_inputs(oracle)
    model, _ = build(student, DEEP_ARCH, P)
    model.save_parameters("params_plain.npz")
    arrays = open_npz(
        read_file(student, "params_plain.npz", "save_parameters"), "the file of save_parameters"
    )
    check_true(
        set(arrays) == set(P),
        f"the file of save_parameters has entries {sorted(arrays)}, expected {sorted(P)}",
        "Save exactly get_parameters(): np.savez(path, **self.get_parameters()).",
    )
    for k in sorted(P):
        check_array(
            arrays[k], P[k], call="the file of save_parameters", what=f"entry {k!r}", rtol=0, atol=0
        )


@points(1)
@pytest.mark.parametrize("other", ["wider layer", "fewer layers"])
def test_load_parameters_refuses_another_architecture(student, oracle, other):
    X, P, Q = _deep_inputs(oracle)
    model, _ = build(student, DEEP_ARCH, P)
    model.save_parameters("params_other.npz")
    if other == "wider layer":
        arch = [dense(4, 5), layer("Tanh"), dense(5, 4)] + DEEP_ARCH[3:]
    else:
        arch = DEEP_ARCH[:4] + [layer("Softmax")]
    target, _ = build(student, arch, draw_params(np.random.default_rng(1), arch))
    expect_value_error(
        f"load_parameters(path) into a model with a {other} than the saving model",
        lambda: target.load_parameters("params_other.npz"),
        "A parameter file only fits a model with the same layers: check every name and shape "
        "(set_parameters does) and raise ValueError.",
    )


# --------------------------------------------------------------------- whole models


def _trained_save_model(student, oracle, path):
    """The SAVE_ARCH model, trained for one epoch (so that batch norm's statistics and the
    optimizer have moved), then saved to ``path``. returns (model, X, y)."""
    X, y, P = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=(16, 2)),
            rng.integers(0, 3, size=16),
            draw_params(rng, SAVE_ARCH),
        ),
    )
    model, _ = build(student, SAVE_ARCH, P, optimizer=SAVE_OPT)
    model.train(X, y, epochs=1, batch_size=8, rng=Rng(2))
    model.save(path)
    return model, X, y


def _type(handle):
    return getattr(handle, "type_name", type(handle).__name__).rsplit(".", 1)[-1]


@points(4)
def test_save_and_load_model_round_trip(student, oracle):
    """Model.save, then Model.load in the same worker: a model with the same layers and
    settings that predicts and evaluates exactly like the original and can train on."""
    model, X, y = _trained_save_model(student, oracle, "model_round_trip.npz")
    loaded = student.Model.load("model_round_trip.npz")
    call = "Model.load(path) after model.save(path)"
    names = [_type(h) for h in loaded.layers]
    want_names = [e["class"] for e in SAVE_ARCH]
    check_true(names == want_names, f"{call}: layers {names}, expected {want_names}")
    check_array(
        loaded.predict(X),
        np.asarray(model.predict(X)),
        call=call,
        what="predict(X) of the loaded model (must equal the saved model's)",
        rtol=1e-12,
        atol=0,
    )
    got, want = loaded.evaluate(X, y), model.evaluate(X, y)
    check_scalar(
        got[0], want[0], call=call, what="evaluate(X, y) loss of the loaded model", rtol=1e-12
    )
    settings = [
        (0, "weight_regularizer_l2", 1e-3),
        (0, "bias_regularizer_l1", 1e-4),
        (0, "weight_regularizer_l1", 0.0),
        (1, "momentum", 0.9),
        (3, "rate", 0.25),
        (5, "alpha", 0.05),
    ]
    for i, name, value in settings:
        got_value = getattr(loaded.layers[i], name)
        check_true(
            got_value is not None and abs(float(got_value) - value) < 1e-12,
            f"{call}: layer {i} ({names[i]}) has {name} = {got_value}, expected {value}",
            "Save every constructor argument that changes what a layer computes (layer_spec) and pass "
            "them back to the constructor when loading.",
        )
    opt = loaded.optimizer
    check_true(_type(opt) == "Adam", f"{call}: the optimizer is a {_type(opt)}, expected Adam")
    for name, value in SAVE_OPT["args"].items():
        got_value = getattr(opt, name)
        check_true(
            abs(float(got_value) - value) < 1e-12,
            f"{call}: the optimizer's {name} is {got_value}, expected {value}",
        )
    check_true(
        _type(loaded.loss) == "CategoricalCrossEntropy"
        and _type(loaded.accuracy) == "AccuracyCategorical",
        f"{call}: loss {_type(loaded.loss)} and accuracy {_type(loaded.accuracy)}, expected "
        "CategoricalCrossEntropy and AccuracyCategorical",
    )
    history = loaded.train(X, y, epochs=1, batch_size=8, rng=Rng(3))
    check_true(isinstance(history, dict), f"{call}, then train(...): no history returned")


@points(3)
def test_model_file_opens_in_the_grader_without_pickle(student, oracle):
    model, X, y = _trained_save_model(student, oracle, "model_plain.npz")
    arrays = open_npz(
        read_file(student, "model_plain.npz", "model.save(path)"), "the file of model.save"
    )
    what = "the file of model.save"
    if "architecture" not in arrays:
        fail(f"{what} has no 'architecture' entry (entries: {sorted(arrays)})")
    raw = arrays.pop("architecture")
    check_true(
        raw.dtype == np.uint8 and raw.ndim == 1,
        f"{what}: 'architecture' is a {raw.dtype} array of shape "
        f"{raw.shape}, expected the UTF-8 bytes of the JSON as a 1-d uint8 array",
    )
    try:
        spec = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        fail(f"{what}: 'architecture' is not UTF-8 JSON ({exc})")
    check_true(
        isinstance(spec, dict)
        and spec.get("format") == "nn-from-scratch-model"
        and spec.get("version") == 1,
        f"{what}: the architecture must be a JSON object with format 'nn-from-scratch-model' and version 1",
    )
    layers = spec.get("layers")
    classes = (
        [e.get("class") for e in layers]
        if isinstance(layers, list) and all(isinstance(e, dict) for e in layers)
        else None
    )
    want = [e["class"] for e in SAVE_ARCH]
    check_true(classes == want, f"{what}: the architecture's layers are {classes}, expected {want}")
    for key, name in (
        ("loss", "CategoricalCrossEntropy"),
        ("accuracy", "AccuracyCategorical"),
        ("optimizer", "Adam"),
    ):
        entry = spec.get(key)
        check_true(
            isinstance(entry, dict) and entry.get("class") == name,
            f"{what}: the architecture's {key} is {entry!r}, expected {{'class': '{name}', 'args': ...}}",
        )
    dense_args = layers[0].get("args", {})
    check_true(
        dense_args.get("n_inputs") == 2
        and dense_args.get("n_neurons") == 8
        and dense_args.get("weight_regularizer_l2") == 1e-3,
        f"{what}: the first Dense layer's args are {dense_args}, expected n_inputs 2, n_neurons 8, "
        "weight_regularizer_l2 0.001 (and the other strengths)",
    )
    params = model.get_parameters()
    check_true(
        set(arrays) == set(params),
        f"{what} holds the arrays {sorted(arrays)}, expected {sorted(params)} "
        "(get_parameters()) and 'architecture'",
    )
    for k in sorted(params):
        check_array(arrays[k], params[k], call=what, what=f"entry {k!r}", rtol=0, atol=0)


def _given_file(oracle):
    """A model file written by the grader, in the chapter's format, and its inputs."""
    X, P = oracle.random(
        "inputs", lambda rng: (rng.normal(size=(6, 2)), draw_params(rng, SAVE_ARCH))
    )
    arrays = oracle.compute(
        "file",
        lambda: ref.model_file_arrays(
            SAVE_ARCH, P, "CategoricalCrossEntropy", "AccuracyCategorical", SAVE_OPT
        ),
    )
    return X, P, arrays


@points(3)
def test_model_load_reads_a_file_in_the_documented_format(student, oracle):
    X, P, arrays = _given_file(oracle)
    want = oracle.compute("want", lambda: ref.predict(SAVE_ARCH, P, X))
    write_file(student, "given_model.npz", npz_bytes(arrays))
    loaded = student.Model.load("given_model.npz")
    check_array(
        loaded.predict(X),
        want,
        call="Model.load(a model file written by the grader).predict(X)",
        inputs={"X": X},
    )


class _Payload:
    """Unpickling this calls numpy.save(marker, 0): a harmless stand-in for any code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (np.save, (self.marker, 0))


@points(2)
@pytest.mark.parametrize("kind", ["object array in the npz", "pickle file"])
def test_model_load_refuses_pickled_data(student, oracle, kind):
    """A valid model file loads; the same file with a pickled payload must make Model.load
    raise without running it."""
    X, P, arrays = _given_file(oracle)
    write_file(student, "valid_model.npz", npz_bytes(arrays))
    try:
        student.Model.load("valid_model.npz")
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        fail(
            f"Model.load could not read a valid model file ({exc.summary}), so refusing the malicious one "
            "proves nothing",
            "See test_model_load_reads_a_file_in_the_documented_format.",
        )
    marker = "payload_ran_" + kind.split()[0] + ".npy"
    if kind == "pickle file":
        import pickle

        data = pickle.dumps({"architecture": arrays["architecture"], "payload": _Payload(marker)})
    else:
        evil = dict(arrays)
        weights = np.empty(P["layer0.weights"].shape, dtype=object)
        weights[...] = 0.0
        weights[0, 0] = _Payload(marker)
        evil["layer0.weights"] = weights
        buf = io.BytesIO()
        np.savez(buf, **evil)  # an object array: savez pickles it
        data = buf.getvalue()
    write_file(student, "evil_model.npz", data)
    raised = None
    try:
        student.Model.load("evil_model.npz")
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        raised = exc
    if exists(student, marker):
        fail(
            f"Model.load unpickled a {kind}: code from the file ran in your process",
            "The payload only called numpy.save, but it could have been anything. Read model files with "
            "np.load(path, allow_pickle=False) (read_arrays); never unpickle, never switch allow_pickle on.",
        )
    if raised is None:
        fail(
            f"Model.load accepted a model file containing a {kind}",
            "Read it with np.load(path, allow_pickle=False): numpy then refuses object arrays and pickles.",
        )


@points(1)
@pytest.mark.parametrize(
    "where,name",
    [("layers", "Model"), ("layers", "print"), ("loss", "Dense"), ("optimizer", "eval")],
)
def test_model_load_refuses_classes_outside_the_allow_list(student, oracle, where, name):
    X, P, arrays = _given_file(oracle)
    spec = json.loads(arrays["architecture"].tobytes().decode("utf-8"))
    if where == "layers":
        spec["layers"][2] = {"class": name, "args": {}}
    else:
        spec[where] = {"class": name, "args": {}}
    evil = dict(arrays)
    evil["architecture"] = np.frombuffer(json.dumps(spec).encode("utf-8"), dtype=np.uint8).copy()
    write_file(student, "unknown_class.npz", npz_bytes(evil))
    expect_value_error(
        f"Model.load(a file whose {where} names the class {name!r})",
        lambda: student.Model.load("unknown_class.npz"),
        "Look every class name up in the allow-list of its kind (LAYERS, LOSSES, ACCURACIES, "
        "OPTIMIZERS), never in your module's globals or with getattr/eval: a file must not be able "
        "to pick what your code runs.",
        must_mention=name,
    )


MALFORMED = {
    "weights of the wrong shape": "shape",
    "a missing parameter array": "missing",
    "an extra parameter array": "extra",
    "an argument that is a string": "string",
    "an argument the class does not list": "argument",
    "another format": "format",
    "an architecture that is not uint8": "dtype",
    # One case for each remaining rule of decode_architecture and build_object's docstrings.
    "an architecture of two dimensions": "ndim",
    "an architecture that is not JSON": "not-json",
    "a JSON list at the top": "not-object",
    "another version": "version",
    "a layer entry without a class": "no-class",
    "an argument that is a bool": "bool",
    "an argument that is infinite": "infinite",
}


@points(1)
@pytest.mark.parametrize("case", list(MALFORMED))
def test_model_load_refuses_malformed_files(student, oracle, case):
    X, P, arrays = _given_file(oracle)
    spec = json.loads(arrays["architecture"].tobytes().decode("utf-8"))
    evil = dict(arrays)
    kind = MALFORMED[case]
    if kind == "shape":
        evil["layer0.weights"] = np.ones((3, 8))
    elif kind == "missing":
        del evil["layer6.biases"]
    elif kind == "extra":
        evil["layer2.weights"] = np.ones((8, 8))
    elif kind == "string":
        spec["layers"][3]["args"]["rate"] = "0.25"
    elif kind == "argument":
        spec["layers"][0]["args"]["activation"] = 1.0
    elif kind == "format":
        spec["format"] = "some-other-format"
    elif kind == "version":
        spec["version"] = spec["version"] + 1
    elif kind == "not-object":
        spec = [spec]
    elif kind == "no-class":
        spec["layers"][2] = {"args": {}}
    elif kind == "bool":
        spec["layers"][0]["args"]["weight_regularizer_l2"] = True
    elif kind == "infinite":
        spec["layers"][0]["args"]["weight_regularizer_l2"] = float("inf")
    if kind in (
        "string",
        "argument",
        "format",
        "version",
        "not-object",
        "no-class",
        "bool",
        "infinite",
    ):
        evil["architecture"] = np.frombuffer(
            json.dumps(spec).encode("utf-8"), dtype=np.uint8
        ).copy()
    if kind == "dtype":
        evil["architecture"] = arrays["architecture"].astype(np.float64)
    if kind == "ndim":
        evil["architecture"] = arrays["architecture"].reshape(1, -1)
    if kind == "not-json":
        evil["architecture"] = np.frombuffer(b"{layers: [Dense", dtype=np.uint8).copy()
    write_file(student, "malformed.npz", npz_bytes(evil))
    expect_value_error(
        f"Model.load(a model file with {case})",
        lambda: student.Model.load("malformed.npz"),
        "Validate everything a file says before using it (decode_architecture, build_object, "
        "set_parameters) and raise ValueError saying what is wrong.",
    )
