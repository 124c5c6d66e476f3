"""Chapter 05: SGD (with momentum), Adagrad, RMSprop and Adam, on the student's own Dense.

The exact tests set a layer's weights once, then feed it a fixed sequence of gradients
(``dweights``, ``dbiases``, which the layer's ``gradients()`` returns) and run
pre_update_params / update_params / post_update_params for every step, comparing the
learning rate, the change of every parameter and the step count with the reference after
each step. The optimizer reaches the parameters only through the layer's
``parameters()`` / ``gradients()`` (the course's parameter interface).
"""

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import (
    GradeFailure,
    Rng,
    check_array,
    check_scalar,
    check_true,
    fail,
    np,
    points,
    pytest,
    reference,
)
from grader.suites.common import OPTIMIZER_DEFAULTS, OPTIMIZER_KEYS

ref = reference("ch05_optimizers")

STEPS = 5
KEYS = OPTIMIZER_KEYS
DEFAULTS = OPTIMIZER_DEFAULTS  # the documented defaults of each constructor
NAN_HINTS = {
    "Adam": "bias correction divides by 1 - beta ** iterations, which is 0 at the first step: "
    "use iterations + 1",
}
STATE_HINT = (
    "keep the optimizer's state per (layer, parameter name): self.state[(layer, name)], "
    "not per name alone nor on the optimizer itself: one optimizer updates many layers"
)
IN_PLACE_HINT = (
    "the parameter did not change: update_parameter must change the array in place "
    "(param -= ..., param += ...); param = param - ... only rebinds the local name"
)


def _signature(cls, kwargs):
    return f"{cls}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


def _draw(oracle, shapes, grad_scale, steps=STEPS):
    """For each (n_in, n_out): starting weights, biases (1, n_out) and `steps` gradient dicts."""

    def make(rng):
        out = []
        for n_in, n_out in shapes:
            W0, b0 = rng.normal(size=(n_in, n_out)), rng.normal(size=(1, n_out))
            grads = [
                {
                    "weights": grad_scale * rng.normal(size=(n_in, n_out)),
                    "biases": grad_scale * rng.normal(size=(1, n_out)),
                }
                for _ in range(steps)
            ]
            out.append(({"weights": W0, "biases": b0}, grads))
        return out

    return oracle.random("inputs", make)


def _lr_bugs(oracle, lr, decay, steps):
    """(description, learning rate of each step) for wrong decay schedules."""
    if not decay:
        return []

    def compute():
        t = np.arange(steps, dtype=np.float64)
        return [
            (
                "decay is not applied: recompute current_learning_rate in pre_update_params at every step "
                "(decay is per step, not per epoch)",
                np.full(steps, float(lr)),
            ),
            (
                "decay uses iterations + 1 (off by one): the first step must use the full learning_rate",
                lr / (1.0 + decay * (t + 1)),
            ),
            (
                "decay compounds: compute current_learning_rate from learning_rate, not from the previous "
                "current_learning_rate",
                lr / np.cumprod(1.0 + decay * t),
            ),
        ]

    return oracle.compute("lr_bugs", compute)


def _param(value, shape, call, what, nan_hint=None):
    """The student's parameter as a finite float array of the given shape (else a failure)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is not None and arr.shape == tuple(shape) and not np.all(np.isfinite(arr)):
        bad = ~np.isfinite(arr)
        idx = [int(i) for i in np.argwhere(bad)[0]]
        fail(
            f"{call}: {what} contains NaN or inf in {int(bad.sum())} entries "
            f"({nan_hint or 'an overflow or a division by zero?'})",
            f"{call}\n  {what}{idx} = {arr[tuple(idx)]}",
        )
    return np.asarray(
        check_array(value, np.zeros(shape), call=call, what=what, atol=np.inf), dtype=np.float64
    )


class _Run:
    """One layer of the student's, updated step by step and checked against a trajectory."""

    def __init__(self, student, sig, cls, params, want, bugs, label="layer"):
        W0, b0 = params["weights"], params["biases"]
        self.layer = student.Dense(W0.shape[0], W0.shape[1], Rng(0))
        self.layer.weights, self.layer.biases = W0, b0
        self.sig, self.cls, self.label = sig, cls, label
        self.want, self.bugs = want, bugs
        self.prev_got, self.prev_want = dict(params), dict(params)
        self.inputs = {"weights": W0, "biases": b0}

    def set_grads(self, grads):
        self.layer.dweights, self.layer.dbiases = grads["weights"], grads["biases"]

    def check(self, k, n_steps):
        call = f"{self.sig}.update_params({self.label}), step {k + 1} of {n_steps}"
        for name in ("weights", "biases"):
            shape = self.inputs[name].shape
            got = _param(
                getattr(self.layer, name),
                shape,
                call,
                f"{self.label}.{name}",
                NAN_HINTS.get(self.cls),
            )
            check_array(
                got - self.prev_got[name],
                self.want[k][name] - self.prev_want[name],
                call=call,
                inputs=self.inputs,
                what=f"change of {self.label}.{name}",
                rtol=1e-6,
                atol=1e-11,
                known_bugs=[(d, traj[k][name] - self.prev_want[name]) for d, traj in self.bugs]
                + [(IN_PLACE_HINT, np.zeros(shape))],
            )
            self.prev_got[name], self.prev_want[name] = got, self.want[k][name]


def _check_lr(opt, sig, k, n_steps, rates, lr_bugs):
    check_scalar(
        opt.current_learning_rate,
        rates[k],
        call=f"{sig}.pre_update_params() before step {k + 1} of {n_steps}",
        what="current_learning_rate",
        known_bugs=[(d, r[k]) for d, r in lr_bugs],
    )


def _check_iterations(opt, sig, k):
    iterations = opt.iterations
    check_true(
        iterations == k + 1,
        f"{sig}: iterations is {iterations!r} after {k + 1} call(s) of post_update_params, "
        f"expected {k + 1}",
        "post_update_params adds 1 to iterations; nothing else changes it.",
    )


def _bug_trajectories(oracle, cls, params, grads, kwargs, variants):
    """Trajectories of known wrong implementations, computed with the reference."""
    key = KEYS[cls]
    hyper = {**DEFAULTS[cls], **kwargs}
    lr, decay = hyper.pop("learning_rate"), hyper.pop("decay")
    out = []
    if decay:
        traj = oracle.compute(
            "bug_constant_rate",
            lambda: ref.run_steps(
                key, params, grads, rates=np.full(len(grads), float(lr)), **hyper
            ),
        )
        out.append(
            (
                "the step uses learning_rate instead of current_learning_rate (decay has no effect "
                "on the update)",
                traj,
            )
        )
    for name, desc, compute in variants:
        out.append(
            (
                desc,
                oracle.compute(
                    f"bug_{name}", lambda: compute(key, params, grads, lr, decay, hyper)
                ),
            )
        )
    return out


def _exact_test(student, oracle, cls, shape, kwargs, grad_scale, variants):
    [(params, grads)] = _draw(oracle, [shape], grad_scale)
    key = KEYS[cls]
    full = {**DEFAULTS[cls], **kwargs}
    want = oracle.compute("want", lambda: ref.run_steps(key, params, grads, **full))
    rates = oracle.compute(
        "rates", lambda: ref.learning_rates(full["learning_rate"], full["decay"], STEPS)
    )
    bugs = _bug_trajectories(oracle, cls, params, grads, kwargs, variants)
    lr_bugs = _lr_bugs(oracle, full["learning_rate"], full["decay"], STEPS)
    sig = _signature(cls, kwargs)
    run = _Run(student, sig, cls, params, want, bugs)
    opt = getattr(student, cls)(**kwargs)
    for k in range(STEPS):
        run.set_grads(grads[k])
        opt.pre_update_params()
        _check_lr(opt, sig, k, STEPS, rates, lr_bugs)
        opt.update_params(run.layer)
        run.check(k, STEPS)
        opt.post_update_params()
        _check_iterations(opt, sig, k)


# ------------------------------------------------------------------ known wrong variants


def _variant(**overrides):
    """A reference run with some hyperparameters or options replaced."""

    def compute(key, params, grads, lr, decay, hyper):
        return ref.run_steps(
            key, params, grads, learning_rate=lr, decay=decay, **{**hyper, **overrides}
        )

    return compute


def _momentum_subtracted(key, params, grads, lr, decay, hyper):
    """update = momentum * previous - lr * g, but then p -= update (a step uphill)."""
    right = ref.run_steps(key, params, grads, learning_rate=lr, decay=decay, **hyper)
    return [{k: 2 * params[k] - p[k] for k in p} for p in right]


def _as(key_other, **overrides):
    """A reference run of another optimizer (the wrong rule for the cache)."""

    def compute(key, params, grads, lr, decay, hyper):
        hyper = {k: v for k, v in hyper.items() if k == "epsilon"}
        return ref.run_steps(
            key_other, params, grads, learning_rate=lr, decay=decay, **{**hyper, **overrides}
        )

    return compute


def _sgd_variants(kwargs):
    momentum = kwargs.get("momentum", 0.0)
    if not momentum:
        return []
    variants = [
        (
            "momentum_sign",
            "the momentum term has the wrong sign: update = momentum * previous_update "
            "- learning_rate * gradient, then param += update",
            _variant(momentum=-momentum),
        ),
        (
            "update_subtracted",
            "the update goes uphill: with update = momentum * previous_update - "
            "learning_rate * gradient, add it to the parameters (param += update)",
            _momentum_subtracted,
        ),
        (
            "momentum_ignored",
            'momentum is ignored: keep this step\'s update in state["momentums"] '
            "and add momentum * it to the next update",
            _variant(momentum=0.0),
        ),
    ]
    if kwargs.get("decay"):
        variants.append(
            (
                "velocity_of_gradients",
                "the velocity sums raw gradients (v = momentum * v + g, "
                "param -= lr * v); here it sums updates, u = momentum * u - lr * g, which differs "
                "once the learning rate decays",
                _variant(velocity_of="gradients"),
            )
        )
    return variants


EPS_INSIDE = (
    "epsilon_inside_sqrt",
    "epsilon is inside the square root: divide by (sqrt(cache) + epsilon)",
    _variant(epsilon_inside_sqrt=True),
)
ADAGRAD_VARIANTS = [
    EPS_INSIDE,
    (
        "cache_overwritten",
        "the cache is overwritten (cache = g**2) instead of accumulated (cache += g**2)",
        _as("rmsprop", rho=0.0),
    ),
]
RMSPROP_VARIANTS = [
    EPS_INSIDE,
    (
        "cache_sums",
        "the cache adds up squared gradients like Adagrad's: it must be a moving average, "
        "rho * cache + (1 - rho) * g**2",
        _as("adagrad"),
    ),
]


def _rmsprop_variants(kwargs):
    rho = kwargs.get("rho", 0.9)
    return RMSPROP_VARIANTS + [
        (
            "rho_swapped",
            "rho and 1 - rho are swapped: cache = rho * cache + (1 - rho) * g**2",
            _variant(rho=1.0 - rho),
        )
    ]


def _adam_variants(kwargs):
    b1, b2 = kwargs.get("beta_1", 0.9), kwargs.get("beta_2", 0.999)
    return [
        (
            "no_bias_correction",
            "Adam without bias correction: divide the averages by 1 - beta_1 ** t "
            "and 1 - beta_2 ** t, with t = iterations + 1",
            _variant(bias_correction=False),
        ),
        EPS_INSIDE,
        (
            "betas_swapped",
            "beta_1 and beta_2 are swapped: beta_1 averages the gradients, beta_2 their squares",
            _variant(beta_1=b2, beta_2=b1),
        ),
    ]


# ------------------------------------------------------------------ tests


@points(1)
@pytest.mark.parametrize("cls", list(DEFAULTS))
def test_optimizer_initial_attributes(student, cls):
    opt = getattr(student, cls)()
    for name, want in DEFAULTS[cls].items():
        got = getattr(opt, name)
        check_scalar(got, want, call=f"{cls}()", what=f"default {name}")
    check_scalar(
        opt.current_learning_rate,
        DEFAULTS[cls]["learning_rate"],
        call=f"{cls}()",
        what="current_learning_rate (must start equal to learning_rate)",
    )
    check_true(opt.iterations == 0, f"{cls}(): iterations must start at 0, got {opt.iterations!r}")
    opt = getattr(student, cls)(learning_rate=0.25, decay=0.5)
    check_scalar(
        opt.learning_rate, 0.25, call=f"{cls}(learning_rate=0.25, decay=0.5)", what="learning_rate"
    )
    check_scalar(
        opt.current_learning_rate,
        0.25,
        call=f"{cls}(learning_rate=0.25, decay=0.5)",
        what="current_learning_rate (must start equal to learning_rate)",
    )
    check_scalar(opt.decay, 0.5, call=f"{cls}(learning_rate=0.25, decay=0.5)", what="decay")


@points(2)
@pytest.mark.parametrize(
    "cls,lr,decay", [("SGD", 0.5, 0.1), ("Adam", 0.01, 0.5), ("RMSprop", 0.02, 1e-3)]
)
def test_learning_rate_decay_schedule(student, oracle, cls, lr, decay):
    """current_learning_rate = learning_rate / (1 + decay * iterations), step after step."""
    n = 8
    rates = oracle.compute("rates", lambda: ref.learning_rates(lr, decay, n))
    lr_bugs = _lr_bugs(oracle, lr, decay, n)
    sig = _signature(cls, {"learning_rate": lr, "decay": decay})
    opt = getattr(student, cls)(learning_rate=lr, decay=decay)
    for k in range(n):
        opt.pre_update_params()
        _check_lr(opt, sig, k, n, rates, lr_bugs)
        opt.post_update_params()
        _check_iterations(opt, sig, k)
    check_scalar(
        opt.learning_rate, lr, call=f"{sig} after {n} steps", what="learning_rate (must not change)"
    )


@points(2)
@pytest.mark.parametrize(
    "shape,kwargs",
    [
        pytest.param((3, 2), {}, id="3x2"),
        pytest.param((1, 4), {"learning_rate": 0.2, "decay": 0.1}, id="1x4-decay"),
        pytest.param((4, 3), {"learning_rate": 0.1, "momentum": 0.9}, id="4x3-momentum"),
        pytest.param(
            (2, 5), {"learning_rate": 0.3, "decay": 0.05, "momentum": 0.5}, id="2x5-decay-momentum"
        ),
    ],
)
def test_sgd_steps_match_reference(student, oracle, shape, kwargs):
    _exact_test(student, oracle, "SGD", shape, kwargs, 1.0, _sgd_variants(kwargs))


@points(2)
@pytest.mark.parametrize(
    "shape,kwargs,grad_scale",
    [
        pytest.param((3, 2), {}, 1.0, id="3x2"),
        pytest.param((4, 1), {"learning_rate": 0.5, "decay": 0.1}, 1.0, id="4x1-decay"),
        pytest.param(
            (2, 3), {"learning_rate": 0.1, "epsilon": 1e-3}, 0.01, id="2x3-small-gradients"
        ),
    ],
)
def test_adagrad_steps_match_reference(student, oracle, shape, kwargs, grad_scale):
    _exact_test(student, oracle, "Adagrad", shape, kwargs, grad_scale, ADAGRAD_VARIANTS)


@points(2)
@pytest.mark.parametrize(
    "shape,kwargs,grad_scale",
    [
        pytest.param((3, 2), {}, 1.0, id="3x2"),
        pytest.param(
            (1, 5), {"learning_rate": 0.01, "decay": 0.1, "rho": 0.8}, 1.0, id="1x5-decay-rho"
        ),
        pytest.param(
            (3, 3), {"learning_rate": 0.02, "epsilon": 1e-4}, 0.01, id="3x3-small-gradients"
        ),
    ],
)
def test_rmsprop_steps_match_reference(student, oracle, shape, kwargs, grad_scale):
    _exact_test(student, oracle, "RMSprop", shape, kwargs, grad_scale, _rmsprop_variants(kwargs))


@points(2)
@pytest.mark.parametrize(
    "shape,kwargs,grad_scale",
    [
        pytest.param((3, 2), {}, 1.0, id="3x2"),
        pytest.param((2, 4), {"learning_rate": 0.01, "decay": 0.1}, 1.0, id="2x4-decay"),
        pytest.param(
            (1, 3), {"learning_rate": 0.005, "beta_1": 0.8, "beta_2": 0.99}, 1.0, id="1x3-betas"
        ),
        pytest.param(
            (4, 2), {"learning_rate": 0.02, "epsilon": 1e-4}, 0.01, id="4x2-small-gradients"
        ),
    ],
)
def test_adam_steps_match_reference(student, oracle, shape, kwargs, grad_scale):
    _exact_test(student, oracle, "Adam", shape, kwargs, grad_scale, _adam_variants(kwargs))


@points(2)
@pytest.mark.parametrize(
    "cls,kwargs",
    [
        pytest.param("SGD", {"learning_rate": 0.1, "momentum": 0.9}, id="SGD"),
        pytest.param("Adagrad", {"learning_rate": 0.5}, id="Adagrad"),
        pytest.param("Adam", {"learning_rate": 0.01}, id="Adam"),
    ],
)
def test_optimizer_state_is_per_layer(student, oracle, cls, kwargs):
    """One optimizer, two layers of the same shape, updated in turn at every step."""
    pairs = _draw(oracle, [(3, 2), (3, 2)], 1.0)
    full = {**DEFAULTS[cls], **kwargs}
    wants = oracle.compute(
        "want", lambda: [ref.run_steps(KEYS[cls], p, g, **full) for p, g in pairs]
    )
    rates = oracle.compute(
        "rates", lambda: ref.learning_rates(full["learning_rate"], full["decay"], STEPS)
    )
    sig = _signature(cls, kwargs)
    runs = [
        _Run(student, sig, cls, p, want, [], label=f"layer{i + 1}")
        for i, ((p, _), want) in enumerate(zip(pairs, wants))
    ]
    opt = getattr(student, cls)(**kwargs)
    for k in range(STEPS):
        opt.pre_update_params()
        _check_lr(opt, sig, k, STEPS, rates, [])
        for run, (_, grads) in zip(runs, pairs):
            run.set_grads(grads[k])
            opt.update_params(run.layer)
        for i, run in enumerate(runs):
            try:
                run.check(k, STEPS)
            except GradeFailure as exc:
                if i == 0 and k == 0:
                    raise  # the same as a one-layer run
                fail(
                    f"{exc.summary}; with two layers, {STATE_HINT}",
                    exc.details + f"\n  hint: {STATE_HINT}",
                )
        opt.post_update_params()


@points(2)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([1e-3, 1.0, 1e3]),
    st.integers(0, 2**31 - 1),
)
@example(3, 2, 1.0, 0)  # runs first: a failure here is reported at once, without a search
def test_adam_first_step_is_learning_rate_sized(student, n_in, n_out, scale, seed):
    """Thanks to bias correction, Adam's first step is lr * g / (|g| + epsilon): about lr, whatever
    the size of the gradient."""
    rng = np.random.default_rng(seed)
    W0, b0 = rng.normal(size=(n_in, n_out)), rng.normal(size=(1, n_out))
    dW = (
        scale
        * rng.choice([-1.0, 1.0], size=(n_in, n_out))
        * rng.uniform(0.5, 2.0, size=(n_in, n_out))
    )
    lr = 0.01
    layer = student.Dense(n_in, n_out, Rng(0))
    layer.weights, layer.biases = W0, b0
    layer.dweights, layer.dbiases = dW, np.zeros((1, n_out))
    opt = student.Adam(learning_rate=lr)
    opt.pre_update_params()
    opt.update_params(layer)
    call = f"Adam(learning_rate={lr}).update_params(layer), first step"
    got = _param(layer.weights, W0.shape, call, "layer.weights", NAN_HINTS["Adam"]) - W0
    want = -lr * dW / (np.abs(dW) + 1e-7)
    absg, s2 = np.abs(dW), np.sqrt(0.001)  # sqrt(1 - beta_2)
    known = [
        (
            "Adam without bias correction: the first step is sqrt(1 - beta_2) / (1 - beta_1) = 3.16 times "
            "too large",
            -lr * 0.1 * dW / (s2 * absg + 1e-7),
        ),
        (
            "only the first moment is bias-corrected: divide the cache by 1 - beta_2 ** t too",
            -lr * dW / (s2 * absg + 1e-7),
        ),
        (
            "only the cache is bias-corrected: divide the momentums by 1 - beta_1 ** t too",
            -lr * 0.1 * dW / (absg + 1e-7),
        ),
    ]
    check_array(
        got,
        want,
        call=call,
        inputs={"dweights": dW},
        what="change of layer.weights",
        rtol=1e-6,
        atol=1e-12,
        known_bugs=known,
    )
    check_array(
        layer.biases,
        b0,
        call=call,
        what="layer.biases (a zero gradient must leave them unchanged)",
        rtol=1e-12,
        atol=1e-12,
    )


# ------------------------------------------------------------------ does it train?

CONVERGENCE_STEPS = 40
CONVERGENCE = [
    ("SGD", {"learning_rate": 0.05, "decay": 0.01, "momentum": 0.7}),
    ("Adagrad", {"learning_rate": 1.0, "decay": 0.01}),
    ("RMSprop", {"learning_rate": 0.2, "decay": 0.1}),
    ("Adam", {"learning_rate": 0.5, "decay": 0.1}),
]


def _mse(X, y, W, b):
    """The mean squared error of X @ W + b and its gradients (the chapter 03/04 formulas)."""
    residual = X @ W + b - y
    scale = 2.0 / residual.size
    return (
        float(np.mean(residual**2)),
        scale * (X.T @ residual),
        scale * residual.sum(axis=0, keepdims=True),
    )


@points(3)
@pytest.mark.parametrize("cls,kwargs", [pytest.param(c, k, id=c) for c, k in CONVERGENCE])
def test_optimizer_trains_a_linear_regression(student, oracle, cls, kwargs):
    """40 full-batch steps on y = X w + b + noise; the final loss must come close to the reference's."""

    def make(rng):
        X = rng.standard_normal((64, 3)) * np.array([1.0, 3.0, 0.3])
        w, b = rng.standard_normal((3, 1)), rng.standard_normal((1, 1))
        return X, X @ w + b + 0.1 * rng.standard_normal((64, 1))

    X, y = oracle.random("problem", make)
    W0, b0 = np.zeros((3, 1)), np.zeros((1, 1))
    full = {**DEFAULTS[cls], **kwargs}
    want = oracle.compute(
        "reference_losses",
        lambda: ref.fit_linear(KEYS[cls], X, y, W0, b0, CONVERGENCE_STEPS, **full),
    )
    sig = _signature(cls, kwargs)
    layer = student.Dense(3, 1, Rng(0))
    layer.weights, layer.biases = W0, b0
    opt = getattr(student, cls)(**kwargs)
    W, b = W0, b0
    losses = []
    for k in range(CONVERGENCE_STEPS):
        loss, dW, db = _mse(X, y, W, b)
        losses.append(loss)
        layer.dweights, layer.dbiases = dW, db
        opt.pre_update_params()
        opt.update_params(layer)
        opt.post_update_params()
        call = f"{sig}, step {k + 1} of a linear regression"
        W = _param(layer.weights, (3, 1), call, "layer.weights", NAN_HINTS.get(cls))
        b = _param(layer.biases, (1, 1), call, "layer.biases", NAN_HINTS.get(cls))
    final = _mse(X, y, W, b)[0]
    losses.append(final)
    bar = 1.5 * float(want[-1])
    if final <= bar:
        return
    marks = [0, 10, 20, 30, CONVERGENCE_STEPS]
    details = "\n".join(
        f"  loss after {m:>2} steps: yours {losses[m]:.4g}, reference {want[m]:.4g}" for m in marks
    )
    cause = (
        " (the loss went up: do your updates follow the gradient downhill?)"
        if final > losses[0]
        else ""
    )
    fail(
        f"{sig} does not train a linear regression: loss {final:.3g} after {CONVERGENCE_STEPS} steps, "
        f"the reference reaches {want[-1]:.3g} (pass below {bar:.3g}){cause}",
        f"X of shape (64, 3), y of shape (64, 1), Dense(3, 1) from zero weights, full-batch steps\n{details}",
    )
