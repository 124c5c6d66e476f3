"""Chapter 06, hidden tests: held-back split fractions, batch sizes and networks, run only in
hidden (instructor) mode. No training runs here: only the cheap building blocks."""

from grader.api import (
    Rng,
    StudentError,
    check_array,
    check_scalar,
    fail,
    hidden,
    np,
    points,
    pytest,
    reference,
)
from grader.suites.ch06_training.networks import (
    draw_params as _draw_params,
    draw_targets as _draw_targets,
    indexed_data as _indexed_data,
    network as _network,
)

ref = reference("ch06_training")
pytestmark = hidden


@points(1)
@pytest.mark.parametrize("n,fraction", [(10, 0.37), (11, 0.5)], ids=["10-0.37", "11-0.5"])
def test_hidden_train_validation_split_rounds_the_count(student, oracle, n, fraction):
    """n_val = round(N * fraction): 3.7 rounds to 4 and 5.5 to 6, where int() would truncate."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    X, y = _indexed_data(n)
    want = oracle.compute(
        "want", lambda: ref.train_validation_split(X, y, fraction, np.random.default_rng(seed))
    )

    def variants():
        perm = np.random.default_rng(seed).permutation(n)
        n_val = int(n * fraction)
        return [
            (
                f"the number of validation samples is truncated, int({n} * {fraction}) = {n_val}: round it, "
                f"n_val = round(N * validation_fraction) = {ref.validation_count(n, fraction)}",
                X[perm[:n_val]],
            )
        ]

    bugs = oracle.compute("bugs", variants)
    call = f"train_validation_split(X, y, {fraction}, rng=default_rng({seed})) with N = {n}"
    got = student.train_validation_split(X, y, fraction, Rng(seed))
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        fail(f"{call} must return four arrays (X_train, y_train, X_val, y_val)")
    X_tr, y_tr, X_val, y_val = got
    check_array(X_val, want[2], call=call, what="X_val", known_bugs=bugs)
    check_array(y_val, want[3], call=call, what="y_val")
    check_array(X_tr, want[0], call=call, what="X_train")
    check_array(y_tr, want[1], call=call, what="y_train")


@points(1)
def test_hidden_minibatch_indices_other_sizes(student, oracle):
    """Batches of one, and a batch size that leaves a last batch of one sample."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    for n, batch_size in ((6, 1), (13, 4)):
        want = oracle.compute(
            f"want-{n}-{batch_size}",
            lambda: ref.minibatch_indices(n, batch_size, np.random.default_rng(seed)),
        )
        call = f"minibatch_indices({n}, {batch_size}, rng=default_rng({seed}))"
        got = student.minibatch_indices(n, batch_size, Rng(seed))
        if not isinstance(got, (list, tuple)):
            fail(f"{call} must return a list of index arrays, got {type(got).__name__}")
        sizes, want_sizes = [len(np.atleast_1d(b)) for b in got], [len(b) for b in want]
        if sizes != want_sizes:
            fail(
                f"{call}: batch sizes {sizes}, expected {want_sizes}",
                "Consecutive slices of batch_size; only the last one may be smaller, and it is kept.",
            )
        for k, (b, w) in enumerate(zip(got, want)):
            check_array(
                b,
                w,
                call=call,
                what=f"batch {k}",
                known_bugs=[
                    (
                        "the indices are not shuffled: with shuffle=True draw one rng.permutation(n_samples)",
                        np.arange(n)[k * batch_size : (k + 1) * batch_size],
                    )
                ],
            )


# ------------------------------------------------------------------------ train_step

STEP_CASES = {
    # name: (task, layer sizes, batch sizes, optimizer)
    "multiclass-3-layers-sgd-momentum": (
        "multiclass",
        [4, 7, 5, 3],
        [1, 9, 2],
        {"name": "sgd", "learning_rate": 0.2, "decay": 0.3, "momentum": 0.6},
    ),
    "binary-adam": (
        "binary",
        [3, 6, 3],
        [1, 7],
        {"name": "adam", "learning_rate": 0.05, "decay": 0.1},
    ),
}


@points(1)
@pytest.mark.parametrize("name", list(STEP_CASES))
def test_hidden_train_step_other_networks(student, oracle, name):
    """A few train_step calls, starting with a batch of one, on networks and optimizers the public
    tests do not use: every weight and bias and the returned loss after every step."""
    task, sizes, batch_sizes, opt = STEP_CASES[name]

    def draw(rng):
        batches = [
            (rng.normal(size=(b, sizes[0])), _draw_targets(rng, task, b, sizes[-1]))
            for b in batch_sizes
        ]
        return _draw_params(rng, sizes), batches

    params, batches = oracle.random("inputs", draw)
    trail = oracle.compute("want", lambda: ref.train_steps(params, batches, task, opt))
    losses = oracle.compute(
        "losses", lambda: ref.batch_losses([params] + trail[:-1], batches, task)
    )
    no_post = oracle.compute(
        "no_post", lambda: ref.train_steps(params, batches, task, opt, count=False)
    )
    layers, dense, loss = _network(student, params, task)
    kwargs = {k: v for k, v in opt.items() if k != "name"}
    optimizer = student.SGD(**kwargs) if opt["name"] == "sgd" else student.Adam(**kwargs)
    text = (
        ("SGD" if opt["name"] == "sgd" else "Adam")
        + "("
        + ", ".join(f"{k}={v}" for k, v in kwargs.items())
        + ")"
    )
    call = f"train_step(layers, loss, {text}, X_batch, y_batch) on a {task} network {sizes}"
    for k, (Xb, yb) in enumerate(batches):
        try:
            value = student.train_step(layers, loss, optimizer, Xb, yb)
        except StudentError as exc:
            if exc.summary.startswith("AttributeError") and "dweights" in exc.summary:
                fail(
                    f"{call}: a Dense layer had no dweights when the optimizer updated it: backward was not "
                    "called on every layer",
                    exc.details,
                )
            raise
        check_scalar(
            value, losses[k], call=call, what=f"returned loss of step {k + 1} (batch of {len(Xb)})"
        )
        for i, d in enumerate(dense):
            for attr, j in (("weights", 0), ("biases", 1)):
                bugs = (
                    [
                        (
                            "the optimizer's step count did not advance (no decay, no progress of Adam's bias "
                            "correction): call optimizer.post_update_params() once after the updates of each step",
                            no_post[k][i][j],
                        )
                    ]
                    if k
                    else []
                )
                check_array(
                    getattr(d, attr),
                    trail[k][i][j],
                    call=call,
                    what=f"{attr} of Dense layer {i + 1} after step {k + 1} (batch of {len(Xb)})",
                    inputs={"X_batch": Xb},
                    known_bugs=bugs,
                )
