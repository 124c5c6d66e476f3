"""Chapter 02: the activation layers, forward and backward.

Every class is graded on its values against the reference (forward and backward, on a
batch of one, a larger batch and hand-picked edge cases), on a gradient check of its
backward against central differences of its own forward, on leaving the caller's
arrays alone, and on a few mathematical properties (hypothesis).
"""

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from grader.api import (
    GradeFailure,
    StudentError,
    check_array,
    check_gradient,
    check_true,
    fail,
    keep,
    np,
    numeric_gradient,
    points,
    pytest,
    reference,
)
from grader.check import as_array
from grader.suites.common import again_note, check_training_keyword, check_unchanged, correct_first
from grader.suites.common import stored as _stored

ref = reference("ch02_activations")

ALPHA_DEFAULT = 0.01

SIGMOID_OVERFLOW_HINT = (
    "np.exp overflowed: exp(t) is inf once t > 709, e.g. exp(-x) for x = -1000. Only ever exponentiate "
    "-|x|: use 1 / (1 + exp(-x)) where x >= 0 and exp(x) / (1 + exp(x)) where x < 0"
)
SOFTMAX_OVERFLOW_HINT = (
    "np.exp overflowed to inf (or a whole row underflowed to 0) and inf/inf or 0/0 is NaN: "
    "subtract each row's own maximum, np.max(inputs, axis=1, keepdims=True), before np.exp "
    "(the max-shift)"
)
TANH_OVERFLOW_HINT = "np.exp overflowed for a large |x|: use np.tanh, which never overflows"

# Hand-written inputs with exact zeros (also -0.0) and ties (rows of equal entries).
ZEROS_AND_TIES = np.array([[0.0, 0.0, 0.0, 0.0], [-0.0, 0.0, 1.5, -1.5], [2.0, 2.0, 2.0, 2.0]])


# ----------------------------------------------------------------------------- helpers


def _layer(student, cls, alpha=None):
    """A fresh student layer; LeakyReLU with its default when alpha is the default."""
    if cls == "LeakyReLU" and alpha is not None and alpha != ALPHA_DEFAULT:
        return student.LeakyReLU(alpha=alpha)
    return getattr(student, cls)()


def _inputs(oracle, case, key="x"):
    """Inputs (N, D) for a named case: a batch of one, a batch, a square batch, or edge values."""
    shapes = {"1x5": (1, 5), "6x4": (6, 4), "4x4": (4, 4)}
    if case == "3x4-zeros-ties":
        return ZEROS_AND_TIES.copy()
    return oracle.random(key, lambda rng: 2.0 * rng.normal(size=shapes[case]))


def _away_from_zero(rng, shape):
    """Entries with |x| in [0.2, 2]: no ReLU corner within a finite-difference step."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)


def _forward_and_check(layer, x, want, cls, bugs=(), hint=None, call=None):
    call = call or f"{cls}.forward(inputs)"
    got = layer.forward(x)
    check_array(got, want, call=call, inputs={"inputs": x}, known_bugs=bugs, nonfinite_hint=hint)
    check_array(
        _stored(layer, "output", call),
        want,
        call=call,
        what="stored self.output",
        known_bugs=bugs,
        nonfinite_hint=hint,
    )


def _matches(got, want):
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return arr.shape == want.shape and np.allclose(arr, want, rtol=1e-6, atol=1e-8)


def _with_note(exc, note):
    if note:
        exc.details = (exc.details + "\n" if exc.details else "") + note
    return exc


def _backward_and_check(layer, x, dv, want, fwd_want, cls, bugs=(), call=None):
    """forward(x), then backward(dv) against the reference. A wrong or failing forward is
    replaced by the correct stored values, so that backward is graded on its own."""
    name = call.split(".backward")[0] if call else cls
    want = np.asarray(want, dtype=np.float64) + 0.0  # -0.0 -> 0.0 in the feedback
    note = ""
    try:
        out = layer.forward(x)
    except StudentError as exc:
        if exc.kind not in ("exception", "not_implemented"):
            raise
        out, note = None, f"{name}.forward(inputs) failed ({exc.summary})"
    else:
        if not _matches(out, fwd_want):
            note = f"{name}.forward(inputs) returned a wrong output"
    if note:
        layer.inputs, layer.output = x, fwd_want
        note = (
            f"Note: {note}, so the grader set self.inputs and self.output to the correct values before "
            "calling backward. Fix forward first; its own tests say what is wrong."
        )
    call = call or f"{cls}.backward(dvalues) after forward(inputs)"
    try:
        got = layer.backward(dv)
        check_array(got, want, call=call, inputs={"inputs": x, "dvalues": dv}, known_bugs=bugs)
        check_array(
            _stored(layer, "dinputs", call),
            want,
            call=call,
            what="stored self.dinputs",
            known_bugs=bugs,
        )
    except (GradeFailure, StudentError) as exc:
        raise _with_note(exc, note)


def _ref_forward(cls, x, alpha=ALPHA_DEFAULT):
    return {
        "ReLU": lambda: ref.relu_forward(x),
        "LeakyReLU": lambda: ref.leaky_relu_forward(x, alpha),
        "Sigmoid": lambda: ref.sigmoid_forward(x),
        "Tanh": lambda: ref.tanh_forward(x),
        "Softmax": lambda: ref.softmax_forward(x),
        "Linear": lambda: ref.linear_forward(x),
    }[cls]()


def _ref_backward(cls, x, dv, alpha=ALPHA_DEFAULT):
    return {
        "ReLU": lambda: ref.relu_backward(x, dv),
        "LeakyReLU": lambda: ref.leaky_relu_backward(x, dv, alpha),
        "Sigmoid": lambda: ref.sigmoid_backward(x, dv),
        "Tanh": lambda: ref.tanh_backward(x, dv),
        "Softmax": lambda: ref.softmax_backward(x, dv),
    }[cls]()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))


# Known wrong answers: (what the student did, what it produces). Only called inside
# oracle.compute, so that public mode replays recorded values.


def _forward_bugs(cls, x, alpha=ALPHA_DEFAULT):
    x = np.asarray(x, dtype=np.float64)
    if cls == "ReLU":
        return [
            (
                "the negative entries are kept: max(0, x) replaces every negative entry by 0",
                x.copy(),
            ),
            ("np.minimum instead of np.maximum: ReLU is max(0, x)", np.minimum(0.0, x)),
            ("np.abs(x) is not ReLU: negative entries must become 0, not positive", np.abs(x)),
        ]
    if cls == "LeakyReLU":
        bugs = [
            (
                "alpha multiplies the positive side: it should be x where x > 0 and alpha * x elsewhere",
                np.where(x > 0, alpha * x, x),
            ),
            (
                "the negative side is 0 as in ReLU: Leaky ReLU keeps alpha * x there",
                np.maximum(0.0, x),
            ),
        ]
        if alpha != ALPHA_DEFAULT:
            bugs.insert(
                0,
                (
                    f"a fixed slope of 0.01 is used instead of self.alpha (= {alpha})",
                    np.where(x > 0, x, ALPHA_DEFAULT * x),
                ),
            )
        return bugs
    if cls == "Sigmoid":
        return [
            (
                "this is sigmoid(-x): the exponent sign is flipped, sigmoid(x) = 1 / (1 + exp(-x))",
                _sigmoid(-x),
            )
        ]
    if cls == "Softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        e0 = np.exp(x - x.max(axis=0, keepdims=True))
        axis0 = "normalised over axis 0 (down each column, across samples) instead of axis=1 (along each row)"
        bugs = [
            (axis0, e0 / e0.sum(axis=0, keepdims=True)),
            (axis0, e / e.sum(axis=0, keepdims=True)),
            ("the exponentials are not divided by their row sum", e),
            (
                "divided by the sum over the whole batch instead of each row's sum (axis=1, keepdims=True)",
                e / e.sum(),
            ),
        ]
        if x.shape[0] == x.shape[1]:
            bugs.append(
                (
                    "np.sum(..., axis=1) without keepdims=True: entry [i, j] was divided by the sum of "
                    "row j instead of row i",
                    e / e.sum(axis=1),
                )
            )
        return bugs
    return []


def _backward_bugs(cls, x, dv, alpha=ALPHA_DEFAULT):
    x, dv = np.asarray(x, dtype=np.float64), np.asarray(dv, dtype=np.float64)
    if cls == "ReLU":
        return [
            (
                "the mask is taken from dvalues (zeroed where dvalues <= 0): zero the entries where the "
                "stored self.inputs <= 0",
                dv * (dv > 0),
            ),
            (
                "dvalues is returned unmasked: zero the entries where self.inputs <= 0 (a mask on "
                "self.output < 0 selects nothing, since the output is never negative)",
                dv.copy(),
            ),
            (
                "the derivative at exactly 0 is taken as 1: mask with inputs <= 0, not inputs < 0",
                dv * (x >= 0),
            ),
            (
                "dvalues is multiplied by the output max(0, x) instead of by the 0/1 mask (x > 0)",
                dv * np.maximum(0.0, x),
            ),
            (
                "the mask is inverted: entries are zeroed where inputs > 0 instead of where inputs <= 0",
                dv * (x <= 0),
            ),
            (
                "the local derivative (the 0/1 mask) is returned without multiplying by dvalues",
                (x > 0).astype(np.float64),
            ),
        ]
    if cls == "LeakyReLU":
        bugs = [
            (
                "the slope at exactly 0 is taken as 1: inputs <= 0 get alpha * dvalues",
                np.where(x >= 0, dv, alpha * dv),
            ),
            (
                "the mask is taken from dvalues instead of the stored self.inputs",
                np.where(dv > 0, dv, alpha * dv),
            ),
            ("the negative side gets 0 as in ReLU: it must get alpha * dvalues", dv * (x > 0)),
            (
                "the local derivative (1 or alpha) is returned without multiplying by dvalues",
                np.where(x > 0, 1.0, alpha),
            ),
            (
                "alpha multiplies the positive side instead of the negative side",
                np.where(x > 0, alpha * dv, dv),
            ),
        ]
        if alpha != ALPHA_DEFAULT:
            bugs.insert(
                0,
                (
                    f"a fixed slope of 0.01 is used instead of self.alpha (= {alpha})",
                    np.where(x > 0, dv, ALPHA_DEFAULT * dv),
                ),
            )
        return bugs
    if cls == "Sigmoid":
        s = _sigmoid(x)
        return [
            (
                "the derivative is computed from the input: x * (1 - x) is not sigmoid'(x); use the stored "
                "output s, s * (1 - s)",
                dv * x * (1 - x),
            ),
            (
                "sigmoid was applied to the output again: s * (1 - s) must use the stored output s itself",
                dv * _sigmoid(s) * (1 - _sigmoid(s)),
            ),
            ("the local derivative s * (1 - s) is not multiplied by dvalues", s * (1 - s)),
            ("the factor (1 - s) is missing: sigmoid'(x) = s * (1 - s)", dv * s),
        ]
    if cls == "Tanh":
        t = np.tanh(x)
        return [
            (
                "the derivative is computed from the input: 1 - x**2 is not tanh'(x); use the stored output t, "
                "1 - t**2",
                dv * (1 - x**2),
            ),
            ("the local derivative 1 - t**2 is not multiplied by dvalues", 1 - t**2),
            ("1 - t is not tanh'(x): square the output, 1 - t**2", dv * (1 - t)),
        ]
    if cls == "Softmax":
        s = ref.softmax_forward(x)
        bugs = [
            (
                "the Jacobian is treated as diagonal: s * (1 - s) * dvalues drops the off-diagonal terms "
                "-s_i * s_j; use s * (dvalues - np.sum(dvalues * s, axis=1, keepdims=True))",
                s * (1 - s) * dv,
            ),
            (
                "the factor s in front is missing: dinputs = s * (dvalues - np.sum(dvalues * s, axis=1, "
                "keepdims=True))",
                dv - np.sum(dv * s, axis=1, keepdims=True),
            ),
            ("dvalues is passed through unchanged: apply the softmax Jacobian", dv.copy()),
        ]
        if x.shape[0] > 1:
            bugs += [
                (
                    "the sum runs over the whole batch: each row needs its own sum (axis=1, keepdims=True)",
                    s * (dv - np.sum(dv * s)),
                ),
                (
                    "the sum runs over axis 0 (the batch): each row needs its own sum (axis=1, keepdims=True)",
                    s * (dv - np.sum(dv * s, axis=0, keepdims=True)),
                ),
            ]
        return bugs
    if cls == "Linear":
        return [
            (
                "the derivative 1 is returned instead of dvalues * 1 (a copy of dvalues)",
                np.ones_like(dv),
            )
        ]
    return []


# ----------------------------------------------------------------------- forward values


@points(1)
@pytest.mark.parametrize("case", ["1x5", "6x4", "3x4-zeros-ties"])
def test_relu_forward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    want = oracle.compute("want", lambda: ref.relu_forward(x))
    bugs = oracle.compute("bugs", lambda: _forward_bugs("ReLU", x))
    _forward_and_check(student.ReLU(), x, want, "ReLU", bugs)


@points(1)
@pytest.mark.parametrize("alpha,case", [(0.01, "1x5"), (0.2, "6x4"), (0.5, "3x4-zeros-ties")])
def test_leaky_relu_forward_matches_reference(student, oracle, alpha, case):
    x = _inputs(oracle, case)
    want = oracle.compute("want", lambda: ref.leaky_relu_forward(x, alpha))
    bugs = oracle.compute("bugs", lambda: _forward_bugs("LeakyReLU", x, alpha))
    _forward_and_check(
        _layer(student, "LeakyReLU", alpha),
        x,
        want,
        "LeakyReLU",
        bugs,
        call=f"LeakyReLU(alpha={alpha}).forward(inputs)",
    )


@points(1)
@pytest.mark.parametrize("case", ["1x5", "6x4", "3x4-zeros-ties"])
def test_sigmoid_forward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    want = oracle.compute("want", lambda: ref.sigmoid_forward(x))
    bugs = oracle.compute("bugs", lambda: _forward_bugs("Sigmoid", x))
    _forward_and_check(student.Sigmoid(), x, want, "Sigmoid", bugs, SIGMOID_OVERFLOW_HINT)


@points(1)
@pytest.mark.parametrize("case", ["1x5", "6x4"])
def test_tanh_forward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    want = oracle.compute("want", lambda: ref.tanh_forward(x))
    _forward_and_check(student.Tanh(), x, want, "Tanh", hint=TANH_OVERFLOW_HINT)


@points(1)
@pytest.mark.parametrize("case", ["1x5", "6x4", "4x4", "3x4-zeros-ties"])
def test_softmax_forward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    want = oracle.compute("want", lambda: ref.softmax_forward(x))
    bugs = oracle.compute("bugs", lambda: _forward_bugs("Softmax", x))
    _forward_and_check(student.Softmax(), x, want, "Softmax", bugs, SOFTMAX_OVERFLOW_HINT)


@points(1)
@pytest.mark.parametrize("case", ["1x5", "6x4"])
def test_linear_forward_and_backward_match_reference(student, oracle, case):
    x = _inputs(oracle, case)
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=x.shape))
    want = oracle.compute("want", lambda: ref.linear_forward(x))
    dwant = oracle.compute("dwant", lambda: ref.linear_backward(x, dv))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("Linear", x, dv))
    layer = student.Linear()
    _forward_and_check(layer, x, want, "Linear")
    _backward_and_check(layer, x, dv, dwant, want, "Linear", bugs)


@points(1)
def test_linear_forward_and_backward_return_copies(student, oracle):
    """The docstrings: forward returns a copy of inputs, backward a copy of dvalues, so that a
    caller who changes its arrays afterwards does not change what the layer returned."""
    x = oracle.random("x", lambda rng: rng.normal(size=(3, 4)))
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=(3, 4)))
    layer = student.Linear()
    for method, arg, attr, name in (
        ("forward", x, "output", "inputs"),
        ("backward", dv, "dinputs", "dvalues"),
    ):
        call = f"Linear.{method}({name})"
        kept = keep(student, arg)
        check_array(getattr(layer, method)(kept), arg, call=call, inputs={name: arg})
        kept.fill(0.0)  # the caller reuses its array
        check_array(
            _stored(layer, attr, call),
            arg,
            call=call,
            inputs={name: arg},
            what=f"self.{attr} after the caller filled its {name} with zeros (self.{attr} is the "
            f"very array {name}, not a copy: return {name}.copy())",
        )


# --------------------------------------------------------------- huge inputs stay finite


@pytest.mark.no_warnings(
    "the text asks for a sigmoid that never overflows: exp only ever sees -|x|"
)
@points(2)
def test_sigmoid_forward_huge_inputs_stay_finite(student, oracle):
    x = np.array([[1000.0, -1000.0, 750.0, -750.0, 0.0], [709.0, -709.0, 710.0, -710.0, 40.0]])
    want = oracle.compute("want", lambda: ref.sigmoid_forward(x))
    bugs = oracle.compute("bugs", lambda: _forward_bugs("Sigmoid", x))
    _forward_and_check(
        student.Sigmoid(),
        x,
        want,
        "Sigmoid",
        bugs,
        SIGMOID_OVERFLOW_HINT,
        call="Sigmoid.forward(inputs with entries up to +-1000)",
    )


@pytest.mark.no_warnings("the text asks for a tanh that never overflows: use np.tanh")
@points(1)
def test_tanh_forward_huge_inputs_stay_finite(student, oracle):
    x = np.array([[1000.0, -1000.0, 750.0, -750.0, 0.0]])
    want = oracle.compute("want", lambda: ref.tanh_forward(x))
    _forward_and_check(
        student.Tanh(),
        x,
        want,
        "Tanh",
        hint=TANH_OVERFLOW_HINT,
        call="Tanh.forward(inputs with entries up to +-1000)",
    )


HUGE_LOGITS = {
    # every row's maximum is 1000: overflows without a max-shift
    "3x3-rows-reach-1000": np.array(
        [[1000.0, 999.0, 998.0], [1000.0, 1000.0, 1000.0], [1000.0, 0.0, -1000.0]]
    ),
    # rows of opposite sign: one shift for the whole batch is not enough
    "2x3-opposite-signs": np.array([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]]),
}


@pytest.mark.no_warnings(
    "the text asks for a softmax that never overflows: subtract each row's maximum first"
)
@points(2)
@pytest.mark.parametrize("case", list(HUGE_LOGITS))
def test_softmax_forward_huge_logits_stay_finite(student, oracle, case):
    x = HUGE_LOGITS[case]
    want = oracle.compute("want", lambda: ref.softmax_forward(x))
    bugs = oracle.compute("bugs", lambda: _forward_bugs("Softmax", x))
    _forward_and_check(
        student.Softmax(),
        x,
        want,
        "Softmax",
        bugs,
        SOFTMAX_OVERFLOW_HINT,
        call="Softmax.forward(logits of size 1000)",
    )


# ---------------------------------------------------------------------- backward values


@points(2)
@pytest.mark.parametrize("case", ["1x5", "6x4"])
def test_relu_backward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=x.shape))
    want = oracle.compute("want", lambda: ref.relu_backward(x, dv))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("ReLU", x, dv))
    fwd = oracle.compute("forward", lambda: ref.relu_forward(x))
    _backward_and_check(student.ReLU(), x, dv, want, fwd, "ReLU", bugs)


@points(2)
def test_relu_backward_at_zero_is_zero(student, oracle):
    x = np.array([[0.0, -0.0, 0.0, 1.0, -1.0], [0.0, 2.0, -3.0, 0.0, 0.5]])
    dv = oracle.random(
        "dvalues",
        lambda rng: rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 2.0, size=x.shape),
    )
    want = oracle.compute("want", lambda: ref.relu_backward(x, dv))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("ReLU", x, dv))
    fwd = oracle.compute("forward", lambda: ref.relu_forward(x))
    _backward_and_check(
        student.ReLU(),
        x,
        dv,
        want,
        fwd,
        "ReLU",
        bugs,
        call="ReLU.backward(dvalues) after forward(inputs with exact zeros)",
    )


@points(2)
@pytest.mark.parametrize("alpha,case", [(0.01, "1x5"), (0.2, "6x4-with-zeros")])
def test_leaky_relu_backward_matches_reference(student, oracle, alpha, case):
    if case == "6x4-with-zeros":
        x = _inputs(oracle, "6x4").copy()
        x[::2, 1] = 0.0  # the slope at exactly 0 is alpha
    else:
        x = _inputs(oracle, case)
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=x.shape))
    want = oracle.compute("want", lambda: ref.leaky_relu_backward(x, dv, alpha))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("LeakyReLU", x, dv, alpha))
    fwd = oracle.compute("forward", lambda: ref.leaky_relu_forward(x, alpha))
    _backward_and_check(
        _layer(student, "LeakyReLU", alpha),
        x,
        dv,
        want,
        fwd,
        "LeakyReLU",
        bugs,
        call=f"LeakyReLU(alpha={alpha}).backward(dvalues) after forward(inputs)",
    )


@points(2)
@pytest.mark.parametrize("case", ["1x5", "6x4"])
def test_sigmoid_backward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=x.shape))
    want = oracle.compute("want", lambda: ref.sigmoid_backward(x, dv))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("Sigmoid", x, dv))
    fwd = oracle.compute("forward", lambda: ref.sigmoid_forward(x))
    _backward_and_check(student.Sigmoid(), x, dv, want, fwd, "Sigmoid", bugs)


@points(2)
@pytest.mark.parametrize("case", ["1x5", "6x4"])
def test_tanh_backward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=x.shape))
    want = oracle.compute("want", lambda: ref.tanh_backward(x, dv))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("Tanh", x, dv))
    fwd = oracle.compute("forward", lambda: ref.tanh_forward(x))
    _backward_and_check(student.Tanh(), x, dv, want, fwd, "Tanh", bugs)


@points(2)
@pytest.mark.parametrize("case", ["1x5", "6x4", "4x4"])
def test_softmax_backward_matches_reference(student, oracle, case):
    x = _inputs(oracle, case)
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=x.shape))
    want = oracle.compute("want", lambda: ref.softmax_backward(x, dv))
    bugs = oracle.compute("bugs", lambda: _backward_bugs("Softmax", x, dv))
    fwd = oracle.compute("forward", lambda: ref.softmax_forward(x))
    _backward_and_check(student.Softmax(), x, dv, want, fwd, "Softmax", bugs)


# ---------------------------------------------------------------------- gradient checks


GRADCHECK = [
    ("ReLU", None),
    ("LeakyReLU", 0.1),
    ("Sigmoid", None),
    ("Tanh", None),
    ("Softmax", None),
    ("Linear", None),
]


@points(1)
@pytest.mark.parametrize("cls,alpha", GRADCHECK, ids=[c for c, _ in GRADCHECK])
def test_backward_passes_gradient_check(student, oracle, cls, alpha):
    """backward(dvalues) equals the central-difference gradient of sum(forward(x) * dvalues)."""
    shape = (3, 4)
    if cls in ("ReLU", "LeakyReLU"):
        x = oracle.random("x", lambda rng: _away_from_zero(rng, shape))
    else:
        x = oracle.random("x", lambda rng: 1.5 * rng.normal(size=shape))
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=shape))
    bugs = oracle.compute("bugs", lambda: _backward_bugs(cls, x, dv, alpha or ALPHA_DEFAULT))
    fwd = oracle.compute("forward", lambda: _ref_forward(cls, x, alpha or ALPHA_DEFAULT))
    layer = _layer(student, cls, alpha)
    name = f"LeakyReLU(alpha={alpha})" if alpha else cls
    # The numerical gradient needs a forward that returns an (N, D) array.
    out = layer.forward(x)
    _finite_output(out, x, f"{name}.forward(inputs)")
    numeric = numeric_gradient(layer.forward, x, dout=dv)
    layer.forward(x)  # the numerical gradient left the layer holding a perturbed input
    got = layer.backward(dv)
    if not _matches(out, fwd):
        # A backward consistent with a wrong forward (returning dvalues for a forward that
        # returns its input) is no gradient of this activation: the check counts only with
        # the right forward.
        short = {"LeakyReLU": "leaky_relu", "Linear": "linear"}.get(cls, cls.lower())
        fix = (
            "test_linear_forward_and_backward_match_reference"
            if cls == "Linear"
            else f"test_{short}_forward_matches_reference"
        )
        fail(
            f"{name}.forward(inputs) is wrong, so its backward cannot be gradient-checked "
            f"(fix {fix} first)",
            "The gradient check compares backward with the slope of your own forward: it counts "
            "only once forward returns the right values.",
        )
    check_gradient(
        got,
        numeric,
        call=f"{name}.backward(dvalues)",
        inputs={"inputs": x, "dvalues": dv},
        known_bugs=bugs,
    )


# ------------------------------------------------------------- the caller's arrays stay put


@points(1)
@pytest.mark.parametrize("cls", ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax"])
def test_forward_and_backward_leave_arguments_unchanged(student, oracle, cls):
    x = oracle.random("x", lambda rng: 2.0 * rng.normal(size=(5, 4)))
    x[0, 0] = 0.0
    dv = oracle.random("dvalues", lambda rng: rng.normal(size=(5, 4)))
    want = oracle.compute("want", lambda: _ref_forward(cls, x))
    dwant = oracle.compute("dwant", lambda: _ref_backward(cls, x, dv))
    layer = _layer(student, cls)
    x_kept, dv_kept = keep(student, x), keep(student, dv)
    fcall, bcall = f"{cls}.forward(inputs)", f"{cls}.backward(dvalues)"
    # The right values first: leaving the arguments alone earns nothing on its own.
    check_array(layer.forward(x_kept), want, call=fcall, inputs={"inputs": x})
    check_unchanged(
        x_kept,
        x,
        call=fcall,
        name="inputs",
        advice="Build a new array for the output (np.maximum, np.where, np.exp ... return one) "
        "instead of writing into inputs.",
    )
    check_array(layer.backward(dv_kept), dwant, call=bcall, inputs={"inputs": x, "dvalues": dv})
    check_unchanged(
        dv_kept,
        dv,
        call=bcall,
        name="dvalues",
        advice="The caller still owns dvalues. Start from a copy (dvalues.copy()) or build a new "
        "array (dvalues * ...) instead of writing into it with [...] = or *=.",
    )
    check_array(layer.forward(x_kept), want, call=again_note(fcall), inputs={"inputs": x})
    check_array(
        layer.backward(dv_kept), dwant, call=again_note(bcall), inputs={"inputs": x, "dvalues": dv}
    )


@points(1)
def test_activations_accept_training_keyword(student, oracle):
    """Every activation computes the same output with training=True, training=False and
    without the keyword (chapter 08's Model calls every layer the same way)."""
    x = oracle.random("x", lambda rng: rng.normal(size=(4, 5)))
    for name in ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear"):
        layer = getattr(student, name)()
        short = {"LeakyReLU": "leaky_relu"}.get(name, name.lower())
        want = oracle.compute(f"want-{name}", lambda: getattr(ref, f"{short}_forward")(x))
        # The right values first: a layer returning its input (or zeros) in every mode would
        # otherwise pass, and this test counts only with correct activations.
        plain = check_array(
            layer.forward(x), want, call=f"{name}().forward(inputs)", inputs={"inputs": x}
        ).astype(np.float64)
        check_training_keyword(
            layer, x, plain, name=f"{name}()", what="output (the same as forward(inputs))"
        )


# ----------------------------------------------------------------------------- properties
# Each property test first calls forward once on a tiny input, so that an unfinished or
# crashing forward fails at once instead of through hypothesis's search and shrinking;
# the examples then reuse one layer's forward (one round trip per call).


def _batches(low, high, max_side=5):
    return arrays(
        np.float64,
        array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side),
        elements=st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


def _forward_of(student, cls, oracle):
    """The forward of a fresh layer, once its values are right on one batch: a property
    counts only together with correct values (a constant or zero output has most of them)."""
    forward = getattr(student, cls)().forward
    short = {"LeakyReLU": "leaky_relu"}.get(cls, cls.lower())

    def check():
        x = _inputs(oracle, "6x4", key="values-first")
        want = oracle.compute("values-first-want", lambda: _ref_forward(cls, x))
        check_array(forward(x), want, call=f"{cls}.forward(inputs)", inputs={"inputs": x})

    correct_first(oracle, check, fix=f"test_{short}_forward_matches_reference")
    return forward


def _run_property(prop):
    """Run a hypothesis property; put the smallest failing input it found into the feedback."""
    try:
        prop()
    except (GradeFailure, StudentError) as exc:
        notes = [
            n
            for n in getattr(exc, "__notes__", []) or []
            if n.startswith(("Failing test case", "Falsifying example"))
        ]
        if notes:
            example = notes[0].split(":", 1)[1].strip()
            exc.details = (
                exc.details + "\n" if exc.details else ""
            ) + f"Smallest failing input found: {example}"
            exc.__notes__ = []
        raise


def _finite_output(got, x, call, hint=None):
    """The output as a float array of x's shape, with no NaN or inf."""
    out = as_array(got, call, x.shape)
    if out.shape != x.shape:
        fail(
            f"{call}: output has shape {out.shape}, expected {x.shape} (the same shape as the inputs)"
        )
    out = out.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(
            f"{call}: output contains NaN or inf in {int(bad.sum())} entries"
            + (f" ({hint})" if hint else ""),
            f"{call} with inputs of shape {x.shape}\n  at {list(idx)}: output {out[idx]}",
        )
    return out


@points(1)
def test_softmax_property_rows_are_distributions(student, oracle):
    """Every row of softmax(x) is non-negative and sums to 1."""
    forward = _forward_of(student, "Softmax", oracle)
    call = "Softmax.forward(inputs)"

    @given(x=_batches(-100.0, 100.0))
    def rows_are_distributions(x):
        s = _finite_output(forward(x), x, call, SOFTMAX_OVERFLOW_HINT)
        check_true(
            np.all(s >= 0),
            f"{call} has negative entries: probabilities are >= 0",
            f"{call} with inputs of shape {x.shape}: smallest output {s.min():.6g}",
        )
        sums = s.sum(axis=1)
        wrong = ~np.isclose(sums, 1.0, rtol=1e-6, atol=1e-9)
        if wrong.any():
            i = int(np.argmax(wrong))
            cause = (
                "each column sums to 1 instead: you normalised over axis 0 (across samples); "
                "use axis=1, keepdims=True"
                if np.allclose(s.sum(axis=0), 1.0)
                else "divide each row's exponentials by that row's sum"
            )
            fail(
                f"{call}: row {i} sums to {sums[i]:.6g}, not 1 ({cause})",
                f"{call} with inputs of shape {x.shape}\n  row sums: {np.array2string(sums, precision=6)}",
            )

    _run_property(rows_are_distributions)


@st.composite
def _batch_and_row_constants(draw):
    x = draw(_batches(-50.0, 50.0))
    c = draw(arrays(np.float64, (x.shape[0], 1), elements=st.floats(-1000.0, 1000.0)))
    return x, c


@points(1)
def test_softmax_property_shift_invariance(student, oracle):
    """softmax(x + c) == softmax(x) when the same constant c is added to every entry of a row."""
    forward = _forward_of(student, "Softmax", oracle)

    @given(x_and_c=_batch_and_row_constants())
    def shift_invariance(x_and_c):
        x, c = x_and_c
        s = _finite_output(forward(x), x, "Softmax.forward(inputs)", SOFTMAX_OVERFLOW_HINT)
        shifted = _finite_output(
            forward(x + c), x, "Softmax.forward(inputs + c)", SOFTMAX_OVERFLOW_HINT
        )
        check_array(
            shifted,
            s,
            call="Softmax.forward(inputs + c)",
            inputs={"inputs": x, "c": c},
            what="output (should equal Softmax.forward(inputs): c is one constant per row)",
        )

    _run_property(shift_invariance)


@points(1)
def test_sigmoid_property_symmetry(student, oracle):
    """sigmoid(-x) == 1 - sigmoid(x)."""
    forward = _forward_of(student, "Sigmoid", oracle)

    @given(x=_batches(-1000.0, 1000.0))
    def symmetry(x):
        s = _finite_output(forward(x), x, "Sigmoid.forward(inputs)", SIGMOID_OVERFLOW_HINT)
        s_neg = _finite_output(forward(-x), x, "Sigmoid.forward(-inputs)", SIGMOID_OVERFLOW_HINT)
        check_array(
            s_neg,
            1.0 - s,
            call="Sigmoid.forward(-inputs)",
            inputs={"inputs": x},
            what="output (should equal 1 - Sigmoid.forward(inputs))",
            atol=1e-12,
        )

    _run_property(symmetry)


RANGES = [("ReLU", 0.0, np.inf), ("Sigmoid", 0.0, 1.0), ("Tanh", -1.0, 1.0)]
HINTS = {"Sigmoid": SIGMOID_OVERFLOW_HINT, "Tanh": TANH_OVERFLOW_HINT, "ReLU": None}


@points(1)
@pytest.mark.parametrize("cls,low,high", RANGES, ids=[r[0] for r in RANGES])
def test_property_outputs_in_range(student, oracle, cls, low, high):
    """ReLU outputs are >= 0, sigmoid outputs in [0, 1], tanh outputs in [-1, 1], for inputs up to +-1000."""
    forward = _forward_of(student, cls, oracle)
    call = f"{cls}.forward(inputs)"

    @given(x=_batches(-1000.0, 1000.0))
    def in_range(x):
        out = _finite_output(forward(x), x, call, HINTS[cls])
        outside = (out < low) | (out > high)
        if outside.any():
            idx = tuple(int(i) for i in np.argwhere(outside)[0])
            fail(
                f"{call} has {int(outside.sum())} entries outside [{low:g}, {high:g}]",
                f"{call} with inputs of shape {x.shape}\n  at {list(idx)}: input {x[idx]:.6g}, "
                f"output {out[idx]:.6g}",
            )

    _run_property(in_range)
