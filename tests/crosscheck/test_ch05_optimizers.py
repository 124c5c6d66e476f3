"""Cross-check the chapter 05 reference optimizers against torch.optim (float64).

Conventions compared:

- SGD with momentum. torch keeps a buffer of gradients, ``buf = momentum * buf + g`` and
  ``p -= lr * buf``; the course keeps the previous *update*, ``u = momentum * u - lr * g``
  and ``p += u``. With a constant learning rate ``u = -lr * buf`` at every step, so the
  trajectories agree; once the learning rate changes between steps they differ (torch
  rescales the whole accumulated velocity by the new rate, the course only the new
  gradient). ``test_sgd_momentum_with_decay_differs_from_torch`` pins that difference down.
- Adagrad: torch's ``lr_decay`` is exactly the course's ``decay``
  (``lr / (1 + (step - 1) * lr_decay)``), with ``initial_accumulator_value=0`` and epsilon
  added outside the square root, as in the course.
- RMSprop: torch's ``alpha`` is the course's ``rho``; epsilon outside the square root.
- Adam: torch divides by ``sqrt(v_hat) + eps`` as the course does.
- Decay for SGD, RMSprop and Adam: a ``LambdaLR`` schedule with factor
  ``1 / (1 + decay * t)``, stepped after each optimizer step.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)

import reference.ch05_optimizers as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-13
STEPS = 12
SHAPES = {"weights": (4, 3), "biases": (1, 3)}


def _problem(seed, grad_scale=1.0):
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = [
        {k: grad_scale * rng.standard_normal(s) for k, s in SHAPES.items()} for _ in range(STEPS)
    ]
    return params, grads


def _torch_trajectory(make_optimizer, params, grads, decay=0.0):
    """Parameters after each torch step, with gradients set by hand (no autograd)."""
    tensors = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()
    }
    opt = make_optimizer(list(tensors.values()))
    sched = (
        torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 + decay * t)) if decay else None
    )
    out = []
    for g in grads:
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k], dtype=torch.float64)
        opt.step()
        if sched is not None:
            sched.step()
        out.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return out


def _assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k in a:
            assert a[k].dtype == np.float64
            np.testing.assert_allclose(
                a[k], b[k], rtol=RTOL, atol=ATOL, err_msg=f"step {step + 1}, {k}"
            )


@pytest.mark.parametrize("lr,decay", [(0.1, 0.0), (0.3, 0.2)])
def test_sgd_matches_torch(lr, decay):
    params, grads = _problem(0)
    ours = ref.sgd_steps(params, grads, learning_rate=lr, decay=decay)
    theirs = _torch_trajectory(lambda p: torch.optim.SGD(p, lr=lr), params, grads, decay)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_sgd_momentum_matches_torch_at_constant_learning_rate(momentum):
    params, grads = _problem(1)
    ours = ref.sgd_steps(params, grads, learning_rate=0.05, momentum=momentum)
    theirs = _torch_trajectory(
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=momentum), params, grads
    )
    _assert_same(ours, theirs)


def test_sgd_momentum_with_decay_differs_from_torch():
    """With a decaying rate the two momentum forms part ways after the first step, and the
    reference's other form (velocity of gradients) is torch's."""
    params, grads = _problem(2)
    theirs = _torch_trajectory(
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), params, grads, decay=0.5
    )
    ours = ref.sgd_steps(params, grads, learning_rate=0.1, decay=0.5, momentum=0.9)
    np.testing.assert_allclose(ours[0]["weights"], theirs[0]["weights"], rtol=RTOL, atol=ATOL)
    assert not np.allclose(ours[1]["weights"], theirs[1]["weights"], rtol=1e-6)
    torch_form = ref.sgd_steps(
        params, grads, learning_rate=0.1, decay=0.5, momentum=0.9, velocity_of="gradients"
    )
    _assert_same(torch_form, theirs)


@pytest.mark.parametrize(
    "lr,decay,eps,grad_scale",
    [(1.0, 0.0, 1e-7, 1.0), (0.5, 0.1, 1e-7, 1.0), (0.1, 0.0, 1e-3, 0.01)],
)
def test_adagrad_matches_torch(lr, decay, eps, grad_scale):
    params, grads = _problem(3, grad_scale)
    ours = ref.adagrad_steps(params, grads, learning_rate=lr, decay=decay, epsilon=eps)
    theirs = _torch_trajectory(
        lambda p: torch.optim.Adagrad(
            p, lr=lr, lr_decay=decay, eps=eps, initial_accumulator_value=0.0
        ),
        params,
        grads,
    )
    _assert_same(ours, theirs)


@pytest.mark.parametrize(
    "lr,decay,eps,rho,grad_scale",
    [(0.001, 0.0, 1e-7, 0.9, 1.0), (0.01, 0.1, 1e-7, 0.8, 1.0), (0.02, 0.0, 1e-4, 0.9, 0.01)],
)
def test_rmsprop_matches_torch(lr, decay, eps, rho, grad_scale):
    params, grads = _problem(4, grad_scale)
    ours = ref.rmsprop_steps(params, grads, learning_rate=lr, decay=decay, epsilon=eps, rho=rho)
    theirs = _torch_trajectory(
        lambda p: torch.optim.RMSprop(p, lr=lr, alpha=rho, eps=eps), params, grads, decay
    )
    _assert_same(ours, theirs)


@pytest.mark.parametrize(
    "lr,decay,eps,betas,grad_scale",
    [
        (0.001, 0.0, 1e-7, (0.9, 0.999), 1.0),
        (0.01, 0.1, 1e-7, (0.9, 0.999), 1.0),
        (0.005, 0.0, 1e-7, (0.8, 0.99), 1.0),
        (0.02, 0.0, 1e-4, (0.9, 0.999), 0.01),
    ],
)
def test_adam_matches_torch(lr, decay, eps, betas, grad_scale):
    params, grads = _problem(5, grad_scale)
    ours = ref.adam_steps(
        params, grads, learning_rate=lr, decay=decay, epsilon=eps, beta_1=betas[0], beta_2=betas[1]
    )
    theirs = _torch_trajectory(
        lambda p: torch.optim.Adam(p, lr=lr, betas=betas, eps=eps), params, grads, decay
    )
    _assert_same(ours, theirs)


def test_adam_without_bias_correction_is_not_torch():
    """The grader's 'no bias correction' variant really is a different optimizer."""
    params, grads = _problem(6)
    wrong = ref.adam_steps(params, grads, learning_rate=0.01, bias_correction=False)
    theirs = _torch_trajectory(lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7), params, grads)
    assert not np.allclose(wrong[0]["weights"], theirs[0]["weights"], rtol=1e-3)


@pytest.mark.parametrize(
    "optimizer,hyper", [("sgd", {"momentum": 0.8}), ("adagrad", {}), ("rmsprop", {}), ("adam", {})]
)
def test_fit_linear_matches_torch_training(optimizer, hyper):
    """The reference's training loop on a linear regression equals torch's, autograd included."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((32, 3))
    y = X @ rng.standard_normal((3, 1)) + 0.3 + 0.1 * rng.standard_normal((32, 1))
    W0, b0 = np.zeros((3, 1)), np.zeros((1, 1))
    lr, decay, steps = 0.05, 0.01, 25
    ours = ref.fit_linear(optimizer, X, y, W0, b0, steps, learning_rate=lr, decay=decay, **hyper)
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    if optimizer == "adagrad":
        opt = torch.optim.Adagrad([W, b], lr=lr, lr_decay=decay, eps=1e-7)
        sched = None
    else:
        opt = {
            "sgd": lambda: torch.optim.SGD([W, b], lr=lr, momentum=hyper.get("momentum", 0.0)),
            "rmsprop": lambda: torch.optim.RMSprop([W, b], lr=lr, alpha=0.9, eps=1e-7),
            "adam": lambda: torch.optim.Adam([W, b], lr=lr, eps=1e-7),
        }[optimizer]()
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 + decay * t))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.mean((Xt @ W + b - yt) ** 2)
        losses.append(loss.item())
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    losses.append(torch.mean((Xt @ W + b - yt) ** 2).item())
    if optimizer == "sgd":
        # momentum with a decaying rate: the two forms differ (see the module docstring)
        torch_form = ref.fit_linear(
            optimizer,
            X,
            y,
            W0,
            b0,
            steps,
            learning_rate=lr,
            decay=decay,
            velocity_of="gradients",
            **hyper,
        )
        np.testing.assert_allclose(torch_form, losses, rtol=1e-9)
    else:
        np.testing.assert_allclose(ours, losses, rtol=1e-9)


def test_learning_rates_match_torch_schedule():
    opt = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=0.3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 + 0.25 * t))
    theirs = []
    for _ in range(10):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(ref.learning_rates(0.3, 0.25, 10), theirs, rtol=1e-12)
