"""Chapter 05, hidden tests: held-back hyper-parameters and layer shapes, run only in hidden
(instructor) mode.

As in the public suite, a layer of the student's gets a fixed sequence of gradients, and the
change of every parameter after every step is compared with the reference's trajectory.
"""

from grader.api import Rng, check_array, check_scalar, hidden, np, points, pytest, reference
from grader.suites.common import OPTIMIZER_DEFAULTS, OPTIMIZER_KEYS

ref = reference("ch05_optimizers")
pytestmark = hidden

STEPS = 4
KEYS = OPTIMIZER_KEYS
DEFAULTS = OPTIMIZER_DEFAULTS  # the documented defaults of each constructor


def _hardcoded_adam_defaults(key, params, grads, lr, decay, hyper):
    """Adam whose bias correction keeps the default betas (0.9, 0.999) whatever was passed."""
    b1, b2, eps = hyper["beta_1"], hyper["beta_2"], hyper["epsilon"]
    rates = ref.learning_rates(lr, decay, len(grads))
    current = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in current.items()}
    v = {k: np.zeros_like(val) for k, val in current.items()}
    out = []
    for t, (g, rate) in enumerate(zip(grads, rates), start=1):
        for k in current:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            current[k] = current[k] - rate * (m[k] / (1 - 0.9**t)) / (
                np.sqrt(v[k] / (1 - 0.999**t)) + eps
            )
        out.append({k: c.copy() for k, c in current.items()})
    return out


def _variants(cls, kwargs):
    """(name, description, compute) of known wrong implementations for these hyper-parameters."""

    def with_(**overrides):
        return lambda key, params, grads, lr, decay, hyper: ref.run_steps(
            key, params, grads, learning_rate=lr, decay=decay, **{**hyper, **overrides}
        )

    if cls == "Adam":
        return [
            (
                "default_betas",
                "the bias correction uses the default betas (1 - 0.9 ** t, 1 - 0.999 ** t): use "
                "self.beta_1 and self.beta_2",
                _hardcoded_adam_defaults,
            ),
            (
                "betas_swapped",
                "beta_1 and beta_2 are swapped: beta_1 averages the gradients, beta_2 their squares",
                with_(beta_1=kwargs["beta_2"], beta_2=kwargs["beta_1"]),
            ),
            (
                "no_bias_correction",
                "Adam without bias correction: divide the averages by 1 - beta_1 ** t and "
                "1 - beta_2 ** t, with t = iterations + 1",
                with_(bias_correction=False),
            ),
        ]
    if cls == "RMSprop":
        return [
            (
                "default_rho",
                "the cache uses the default rho = 0.9 instead of self.rho",
                with_(rho=0.9),
            ),
            (
                "rho_swapped",
                "rho and 1 - rho are swapped: cache = rho * cache + (1 - rho) * g**2",
                with_(rho=1.0 - kwargs["rho"]),
            ),
            (
                "epsilon_inside_sqrt",
                "epsilon is inside the square root: divide by (sqrt(cache) + epsilon)",
                with_(epsilon_inside_sqrt=True),
            ),
        ]
    if cls == "Adagrad":
        return [
            (
                "cache_overwritten",
                "the cache is overwritten (cache = g**2) instead of accumulated (cache += g**2)",
                lambda key, params, grads, lr, decay, hyper: ref.run_steps(
                    "rmsprop",
                    params,
                    grads,
                    learning_rate=lr,
                    decay=decay,
                    epsilon=hyper["epsilon"],
                    rho=0.0,
                ),
            ),
            ("default_epsilon", "epsilon is fixed at 1e-7: use self.epsilon", with_(epsilon=1e-7)),
            (
                "epsilon_inside_sqrt",
                "epsilon is inside the square root: divide by (sqrt(cache) + epsilon)",
                with_(epsilon_inside_sqrt=True),
            ),
        ]
    return [
        (
            "momentum_ignored",
            "momentum is ignored: keep this step's update in "
            'state["momentums"] and add momentum * it to the next update',
            with_(momentum=0.0),
        ),
        (
            "velocity_of_gradients",
            "the velocity sums raw gradients (v = momentum * v + g, param -= lr * v); here it "
            "sums updates, u = momentum * u - lr * g, which differs once the learning rate decays",
            with_(velocity_of="gradients"),
        ),
    ]


CASES = [
    pytest.param(
        "Adam",
        (1, 1),
        {"learning_rate": 0.05, "decay": 0.2, "beta_1": 0.5, "beta_2": 0.9},
        1.0,
        id="Adam-1x1-betas-0.5-0.9",
    ),
    pytest.param(
        "Adam",
        (6, 7),
        {"learning_rate": 0.01, "beta_1": 0.7, "beta_2": 0.95, "epsilon": 1e-3},
        0.01,
        id="Adam-6x7-betas-0.7-0.95",
    ),
    pytest.param(
        "RMSprop",
        (5, 3),
        {"learning_rate": 0.03, "rho": 0.5, "decay": 0.3},
        1.0,
        id="RMSprop-5x3-rho-0.5",
    ),
    pytest.param(
        "Adagrad",
        (3, 4),
        {"learning_rate": 0.3, "epsilon": 0.01},
        0.05,
        id="Adagrad-3x4-epsilon-0.01",
    ),
    pytest.param(
        "SGD",
        (2, 9),
        {"learning_rate": 0.4, "decay": 0.5, "momentum": 0.3},
        1.0,
        id="SGD-2x9-momentum-0.3-decay-0.5",
    ),
]


@points(1)
@pytest.mark.parametrize("cls,shape,kwargs,grad_scale", CASES)
def test_hidden_optimizer_other_hyperparameters(student, oracle, cls, shape, kwargs, grad_scale):
    """Four steps with held-back hyper-parameters: the learning rate before every step and the
    change of the weights and biases after it must match the reference."""
    n_in, n_out = shape

    def draw(rng):
        params = {"weights": rng.normal(size=shape), "biases": rng.normal(size=(1, n_out))}
        grads = [
            {
                "weights": grad_scale * rng.normal(size=shape),
                "biases": grad_scale * rng.normal(size=(1, n_out)),
            }
            for _ in range(STEPS)
        ]
        return params, grads

    params, grads = oracle.random("inputs", draw)
    full = {**DEFAULTS[cls], **kwargs}
    hyper = {k: v for k, v in full.items() if k not in ("learning_rate", "decay")}
    want = oracle.compute("want", lambda: ref.run_steps(KEYS[cls], params, grads, **full))
    rates = oracle.compute(
        "rates", lambda: ref.learning_rates(full["learning_rate"], full["decay"], STEPS)
    )
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (desc, compute(KEYS[cls], params, grads, full["learning_rate"], full["decay"], hyper))
            for _, desc, compute in _variants(cls, kwargs)
        ],
    )
    sig = f"{cls}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    layer = student.Dense(n_in, n_out, Rng(0))
    layer.weights, layer.biases = params["weights"], params["biases"]
    opt = getattr(student, cls)(**kwargs)
    prev_got, prev_want = dict(params), dict(params)
    for k in range(STEPS):
        layer.dweights, layer.dbiases = grads[k]["weights"], grads[k]["biases"]
        opt.pre_update_params()
        check_scalar(
            opt.current_learning_rate,
            rates[k],
            call=f"{sig}.pre_update_params() before step {k + 1}",
            what="current_learning_rate",
        )
        opt.update_params(layer)
        call = f"{sig}.update_params(layer), step {k + 1} of {STEPS}"
        for name in ("weights", "biases"):
            got = np.asarray(
                check_array(
                    getattr(layer, name),
                    want[k][name],
                    call=call,
                    what=f"layer.{name}",
                    atol=np.inf,
                    nonfinite_hint="a division by zero?",
                ),
                dtype=np.float64,
            )
            check_array(
                got - prev_got[name],
                want[k][name] - prev_want[name],
                call=call,
                inputs={name: params[name]},
                what=f"change of layer.{name}",
                rtol=1e-6,
                atol=1e-11,
                known_bugs=[(d, traj[k][name] - prev_want[name]) for d, traj in bugs],
            )
            prev_got[name], prev_want[name] = got, want[k][name]
        opt.post_update_params()
