"""Chapter 14: loading the shipped LeNet-5 into your own layers (copy_parameters,
check_forward, load_pretrained)."""

import io

from grader.api import (
    Rng,
    StudentError,
    check_array,
    check_true,
    fail,
    keep,
    np,
    points,
    write_scratch_file,
)
from grader.suites.ch14_transfer.cases import (
    LENET_KEYS,
    check_data,
    digits,
    expect_value_error,
    file_arrays,
    params_of,
    pretrained_arrays,
    pretrained_model,
    ref,
    returned_model,
    scratch_files,
)
from grader.suites.common import correct_first


def _npz(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@points(2)
def test_copy_parameters_fills_every_layer(student, oracle):
    """build_lenet's 13 layers, the shipped arrays scaled by a random factor: every
    parameter must hold its array afterwards (layer i gets the keys layer{i}.*)."""
    scale = float(oracle.random("scale", lambda rng: rng.uniform(0.5, 1.5)))
    arrays = {k: scale * v for k, v in pretrained_arrays().items()}
    model = student.build_lenet(Rng(0))
    before = params_of(model, LENET_KEYS, "build_lenet(rng)")
    student.copy_parameters(model.layers, arrays)
    got = params_of(model, LENET_KEYS, "copy_parameters(build_lenet(rng).layers, arrays)")
    for key in LENET_KEYS:
        check_array(
            got[key],
            arrays[key],
            call="copy_parameters(layers, arrays)",
            what=f"the layers' {key}",
            rtol=1e-12,
            known_bugs=[
                (
                    "nothing was copied: the layers still hold their initial values (write into each "
                    "layer's own array in place: array[...] = value)",
                    before[key],
                )
            ],
        )


@points(2)
def test_copy_parameters_refuses_a_file_that_does_not_fit(student, oracle):
    """A missing array, an array no layer takes, and a transposed Dense matrix must each
    raise a ValueError naming the problem, and leave the layers unchanged."""
    good = pretrained_arrays()
    model = student.build_lenet(Rng(0))
    before = params_of(model, LENET_KEYS, "build_lenet(rng)")
    call = "copy_parameters(layers, arrays)"
    missing = {k: v for k, v in good.items() if k != "layer11.biases"}
    expect_value_error(
        call + " with layer11.biases missing",
        lambda: student.copy_parameters(model.layers, missing),
        "Check that every layer{i}.{name} of the layers is in the file before copying anything.",
        must_mention="layer11.biases",
    )
    extra = dict(good, **{"layer5.weights": np.ones((2, 2))})
    expect_value_error(
        call + " with an extra array layer5.weights",
        lambda: student.copy_parameters(model.layers, extra),
        "An array that no layer takes means the file and the layers do not match (another layer order?).",
        must_mention="layer5.weights",
    )
    transposed = dict(good, **{"layer7.weights": good["layer7.weights"].T.copy()})
    expect_value_error(
        call + " with layer7.weights stored as (120, 400)",
        lambda: student.copy_parameters(model.layers, transposed),
        "When the file's shape is the layer's shape reversed, say that the array looks transposed.",
        must_mention="transposed",
    )
    _check_nothing_copied(model, before, call)


@points(3)
def test_check_forward_accepts_the_right_weights_and_catches_wrong_ones(student, oracle):
    """The shipped network passes (the returned difference is at most 1e-6); the same
    network with its first kernel transposed (kh and kw swapped), or compared with outputs
    off by 1e-4, must raise a ValueError whose message says what went wrong."""
    inputs, outputs = check_data()
    model = pretrained_model(student)
    diff = student.check_forward(model, inputs, outputs)
    try:
        diff = float(diff)
    except (TypeError, ValueError):
        fail(
            f"check_forward returned {type(diff).__name__}, expected the largest difference (a float)"
        )
    check_true(
        0.0 <= diff <= 1e-6,
        f"check_forward returned {diff:.3g} for the right weights: the largest |predict - outputs| is 0 here",
        "Return float(np.max(np.abs(model.predict(inputs) - outputs))).",
    )
    off = outputs + 1e-4 * np.where(np.arange(outputs.size).reshape(outputs.shape) % 2, 1.0, -1.0)
    expect_value_error(
        "check_forward(model, inputs, outputs changed by 1e-4)",
        lambda: student.check_forward(model, inputs, off),
        "Compare every probability within atol (1e-6), not only the predicted classes.",
    )
    W = np.asarray(model.layers[0].weights)
    model.layers[0].weights = W.transpose(0, 1, 3, 2).copy()
    expect_value_error(
        "check_forward(model with the first kernel transposed, inputs, outputs)",
        lambda: student.check_forward(model, inputs, outputs),
        "A transposed kernel has the right shape: only the forward pass shows it. The message must name the "
        "likely causes (weights in the wrong layers, a kernel transposed).",
        must_mention="transposed",
    )


@points(3)
def test_load_pretrained_gives_the_shipped_network(student, oracle):
    """load_pretrained on the shipped files: its predictions on 40 held-out digits 0-4
    match the reference's; on a copy of the file whose second kernel is stored transposed
    it must raise a ValueError (the forward check)."""
    X, _, parts = digits()
    idx = parts["source_test"][8:48]
    want = oracle.compute("want", lambda: ref.predict(ref.load_pretrained(), X[idx]))
    model_path, check_path = scratch_files(student)
    call = "load_pretrained(model_path, check_path, rng)"
    model = returned_model(student.load_pretrained(model_path, check_path, Rng(0)), call)
    check_array(
        model.predict(X[idx]),
        want,
        call=call + ", then predict(40 images)",
        inputs={"images": X[idx]},
        known_bugs=[],
    )
    bad = dict(file_arrays("lenet-digits04.npz"))
    bad["layer3.weights"] = bad["layer3.weights"].transpose(0, 1, 3, 2).copy()
    bad_path = write_scratch_file(student, "lenet-transposed.npz", _npz(bad))
    expect_value_error(
        call + " on a file whose layer3 kernel is transposed",
        lambda: student.load_pretrained(bad_path, check_path, Rng(0)),
        "load_pretrained must end with check_forward on the check file: shapes alone cannot see a transposed kernel.",
    )


@points(1)
def test_copy_parameters_refuses_an_array_of_another_shape(student, oracle):
    """layer7.biases stored as (120,) for the layer's (1, 120): numpy would broadcast it into
    the layer's array, so only the shape check refuses it (a ValueError naming the key, the
    layers unchanged). Counts only together with a right copy of the shipped arrays."""
    good = pretrained_arrays()
    call = "copy_parameters(layers, arrays)"

    def copies_right():
        model = student.build_lenet(Rng(0))
        student.copy_parameters(model.layers, good)
        got = params_of(model, LENET_KEYS, call)
        for key in ("layer0.weights", "layer7.biases"):
            check_array(got[key], good[key], call=call, what=f"the layers' {key}", rtol=1e-12)

    correct_first(oracle, copies_right, fix="test_copy_parameters_fills_every_layer")
    model = student.build_lenet(Rng(0))
    before = params_of(model, LENET_KEYS, "build_lenet(rng)")
    flat = dict(good, **{"layer7.biases": good["layer7.biases"].ravel()})
    expect_value_error(
        call + " with layer7.biases stored as (120,) for the layer's (1, 120)",
        lambda: student.copy_parameters(model.layers, flat),
        "Compare every array's shape with the layer's before copying: array[...] = value would "
        "broadcast a (120,) array into (1, 120) without a word.",
        must_mention="layer7.biases",
    )
    _check_nothing_copied(model, before, call)


def _check_forward_call(student, call, fn, hint):
    try:
        return fn()
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        fail(f"{call} raised {exc.summary}", hint)


@points(1)
def test_check_forward_honours_atol_and_refuses_other_shapes(student, oracle):
    """Outputs off by 1e-4 with atol=1e-3: no error, the returned difference is 1e-4; a
    difference equal to atol is accepted (at most atol); outputs of another shape than the
    predictions raise a ValueError even when they would broadcast."""
    inputs, outputs = check_data()
    model = pretrained_model(student)
    off = outputs + 1e-4 * np.where(np.arange(outputs.size).reshape(outputs.shape) % 2, 1.0, -1.0)
    call = "check_forward(model, inputs, outputs changed by 1e-4, atol=1e-3)"
    got = _check_forward_call(
        student,
        call,
        lambda: student.check_forward(model, inputs, off, atol=1e-3),
        "The difference 1e-4 is within atol=1e-3: compare with the atol argument, not CHECK_ATOL.",
    )
    try:
        diff = float(got)
    except (TypeError, ValueError):
        fail(f"{call} returned {type(got).__name__}, expected the largest difference (a float)")
    # the shipped outputs are the network's own to 1e-6 (test_check_forward_accepts_...)
    check_true(
        abs(diff - 1e-4) <= 2e-6,
        f"{call} returned {diff:.6g}, expected the largest |predict - outputs|, 1e-4 here",
        "Return float(np.max(np.abs(model.predict(inputs) - outputs))).",
    )
    call = f"check_forward(model, inputs, outputs changed by 1e-4, atol={diff!r}) (atol: its own difference)"
    _check_forward_call(
        student,
        call,
        lambda: student.check_forward(model, inputs, off, atol=diff),
        "A difference equal to atol is accepted: raise only when it is larger than atol (<=, not <).",
    )
    three = inputs[[0, 0, 0]]
    expect_value_error(
        "check_forward(model, 3 copies of the first image, outputs[:1] of shape (1, 10))",
        lambda: student.check_forward(model, three, outputs[:1], atol=1e-3),
        "The predictions are (3, 10) and the outputs (1, 10): compare the shapes first (a "
        "difference of arrays would broadcast them and hide the mismatch).",
    )


@points(1)
def test_copy_parameters_writes_into_the_layers_own_arrays(student, oracle):
    """[Dense, ReLU, Dense] whose first weights array is shared with a Dense outside the list
    (as an optimizer or a handle holds it): after copy_parameters the layers hold the
    arrays, and so does the outside Dense (array[...] = value writes into the layer's own
    array; a new array put in its place leaves the other holder behind)."""
    arrays = oracle.random(
        "arrays",
        lambda rng: {
            "layer0.weights": rng.standard_normal((3, 4)),
            "layer0.biases": rng.standard_normal((1, 4)),
            "layer2.weights": rng.standard_normal((4, 2)),
            "layer2.biases": rng.standard_normal((1, 2)),
        },
    )
    layers = [student.Dense(3, 4, Rng(0)), student.ReLU(), student.Dense(4, 2, Rng(1))]
    outside = student.Dense(3, 4, Rng(2))
    first = np.asarray(layers[0].weights, dtype=np.float64)
    shared = keep(student, first.copy())
    layers[0].weights = shared
    outside.weights = shared
    call = "copy_parameters([Dense, ReLU, Dense], arrays)"
    student.copy_parameters(layers, arrays)
    for key, value in arrays.items():
        i, name = key[len("layer") :].split(".")
        check_array(getattr(layers[int(i)], name), value, call=call, what=key)
    check_array(
        outside.weights,
        arrays["layer0.weights"],
        call=call + ", read through another holder of the first Dense's weights array",
        what="layer0.weights",
        known_bugs=[
            (
                "the layer got a new array instead of the file's values in its own: write in place "
                "(array[...] = value), so that an optimizer or a handle holding the array sees them",
                first,
            )
        ],
    )


def _check_nothing_copied(model, before, call):
    """After a refused file, every parameter of ``model`` is still what ``before`` holds."""
    after = params_of(model, LENET_KEYS, call)
    changed = [k for k in LENET_KEYS if not np.array_equal(after[k], before[k])]
    check_true(
        not changed,
        f"{call} changed {changed[0] if changed else ''} although the file was refused",
        "Check every key and shape first; copy only when everything fits (a half-loaded network "
        "is worse than none).",
    )
