"""Chapter 05: random search on a quadratic loss built in the worker."""

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import Fn, Rng, check_array, check_true, fail, keep, np, points, pytest, reference
from grader.suites.common import again_note, check_unchanged

ref = reference("ch05_optimizers")


def _problem(oracle, shapes):
    """Starting params and targets with keys in the given (unsorted) order."""

    def make(rng):
        params = {k: rng.normal(size=s) for k, s in shapes.items()}
        targets = {k: rng.normal(size=s) for k, s in shapes.items()}
        return params, targets

    return oracle.random("problem", make)


def _call(iterations, scale):
    return f"random_search(loss_fn, params, iterations={iterations}, rng=default_rng(seed), scale={scale})"


def _history(result, iterations, call):
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"{call} must return a tuple (best_params, history), got {type(result).__name__}")
    best, history = result
    if not isinstance(best, dict):
        fail(f"{call}: best_params must be a dict of arrays, got {type(best).__name__}")
    history = check_array(history, np.zeros(iterations), call=call, what="history", atol=np.inf)
    return best, np.asarray(history, dtype=np.float64)


@points(2)
@pytest.mark.parametrize(
    "shapes,iterations,scale,seed,w",
    [
        pytest.param({"weights": (3, 2), "biases": (1, 2)}, 40, 0.05, 0, 1.0, id="2-keys"),
        pytest.param({"W": (4,)}, 25, 0.5, 7, 0.5, id="1-key"),
        pytest.param({"x": (2, 2), "b": (1, 1), "a": (3,)}, 30, 0.2, 3, 2.0, id="3-keys"),
    ],
)
def test_random_search_matches_reference(student, oracle, shapes, iterations, scale, seed, w):
    """The same Generator seed gives the same candidates, hence the same history and best params."""
    params, targets = _problem(oracle, shapes)

    def loss(p):
        return ref.dict_quadratic(p, targets, w)

    def run(**options):
        return ref.random_search(
            loss, params, iterations, np.random.default_rng(seed), scale, **options
        )

    want_best, want_history = oracle.compute("want", run)
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "candidates are drawn around the starting params; draw them around the best params so far",
                run(around="start"),
            ),
            (
                "the noise is drawn key by key in the dict's own order; draw it in sorted(params) order",
                run(key_order="given"),
            ),
            (
                "scale is not applied: multiply the standard normal noise by scale",
                ref.random_search(loss, params, iterations, np.random.default_rng(seed), 1.0),
            ),
        ],
    )
    call = _call(iterations, scale)
    result = student.random_search(
        Fn("dict_quadratic", targets=targets, w=w), params, iterations, Rng(seed), scale=scale
    )
    best, history = _history(result, iterations, call)
    check_array(
        history,
        want_history,
        call=call,
        inputs=params,
        what="history",
        known_bugs=[(d, h) for d, (_, h) in bugs],
    )
    check_true(
        sorted(best) == sorted(want_best),
        f"{call}: best_params has keys {sorted(best)}, expected {sorted(want_best)}",
    )
    for k in sorted(want_best):
        check_array(best[k], want_best[k], call=call, inputs=params, what=f"best_params[{k!r}]")


@points(1)
def test_random_search_keeps_the_best_on_ties(student, oracle):
    """The docstring: a candidate replaces the best only when its loss is strictly lower. On a
    flat loss (every candidate ties) the best params stay the starting ones."""
    params, targets = _problem(oracle, {"weights": (2, 3), "biases": (1, 3)})
    iterations, scale, seed = 8, 0.3, 5

    def run(accept_ties=False):
        def loss(p):
            return ref.dict_quadratic(p, targets, 0.0)

        if not accept_ties:
            return ref.random_search(loss, params, iterations, np.random.default_rng(seed), scale)
        # The non-strict comparison: every tying candidate is taken.
        rng, best = np.random.default_rng(seed), {k: np.array(v) for k, v in params.items()}
        for _ in range(iterations):
            best = {k: best[k] + scale * rng.standard_normal(best[k].shape) for k in sorted(best)}
        return best

    want_best, want_history = oracle.compute("want", run)
    ties = oracle.compute("bugs", lambda: run(accept_ties=True))
    call = _call(iterations, scale) + " on a flat loss (every candidate ties)"
    result = student.random_search(
        Fn("dict_quadratic", targets=targets, w=0.0), params, iterations, Rng(seed), scale=scale
    )
    best, history = _history(result, iterations, call)
    check_array(history, want_history, call=call, what="history")
    for k in sorted(want_best):
        check_array(
            best.get(k) if k in best else None,
            want_best[k],
            call=call,
            inputs=params,
            what=f"best_params[{k!r}]",
            known_bugs=[
                (
                    "a candidate that ties the best loss replaced it: keep a candidate only when "
                    "its loss is strictly lower (<, not <=)",
                    ties[k],
                )
            ],
        )


@points(2)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 25),
    st.sampled_from([0.01, 0.1, 1.0]),
    st.integers(0, 2**31 - 1),
)
@example(2, 3, 20, 0.1, 0)  # runs first: a failure here is reported at once, without a search
def test_random_search_history_never_increases(student, rows, cols, iterations, scale, seed):
    """history[i] is the best loss after iteration i: it can only stay or go down, it is never above
    the loss of the start, and its last entry is the loss of the returned params."""
    rng = np.random.default_rng(seed)
    params = {"w": rng.normal(size=(rows, cols)), "b": rng.normal(size=(1, cols))}
    targets = {"w": rng.normal(size=(rows, cols)), "b": rng.normal(size=(1, cols))}

    def loss(p):
        return float(
            sum(np.sum((np.asarray(p[k], dtype=np.float64) - t) ** 2) for k, t in targets.items())
        )

    call = _call(iterations, scale)
    best, history = _history(
        student.random_search(
            Fn("dict_quadratic", targets=targets), params, iterations, Rng(seed), scale=scale
        ),
        iterations,
        call,
    )
    start = loss(params)
    path = np.concatenate(
        [[start], history]
    )  # the loss of the start, then the best after each iteration
    rises = np.flatnonzero(np.diff(path) > 1e-12 * max(1.0, start))
    if rises.size:
        i = int(rises[0])
        before = (
            f"{path[i]:.6g} at iteration {i - 1}" if i else f"{start:.6g} (the loss of the start)"
        )
        fail(
            f"{call}: history goes up, from {before} to {path[i + 1]:.6g} at iteration {i}",
            "history must record the best loss so far, not the loss of each candidate; the start counts as "
            "the first best, and a candidate replaces it only if its loss is lower.",
        )
    for k in params:
        check_true(
            k in best and np.shape(best[k]) == params[k].shape,
            f"{call}: best_params[{k!r}] is missing or has the wrong shape",
        )
    check_array(
        loss(best),
        history[-1],
        call=call,
        what="loss of the returned best_params (the last entry of history)",
        rtol=1e-9,
    )


@points(1)
def test_random_search_leaves_params_unchanged(student, oracle):
    """The right history first (leaving params alone earns nothing on its own), then params as
    they were, and a second search from the same dict must find the same again."""
    params, targets = _problem(oracle, {"weights": (2, 3), "biases": (1, 3)})
    _, want = oracle.compute(
        "want",
        lambda: ref.random_search(
            lambda p: ref.dict_quadratic(p, targets), params, 20, np.random.default_rng(1), 0.1
        ),
    )
    call = _call(20, 0.1)
    kept = keep(student, params)

    def run(call):
        result = student.random_search(
            Fn("dict_quadratic", targets=targets), kept, 20, Rng(1), scale=0.1
        )
        _, history = _history(result, 20, call)
        check_array(history, want, call=call, inputs=params, what="history")

    run(call)
    after = kept.fetch()
    for k in params:
        check_true(k in after, f"{call} removed params[{k!r}] from the caller's dict")
        check_unchanged(
            after[k],
            params[k],
            call=call,
            name=f"params[{k!r}]",
            advice="Leave the dict you are given alone: start from copies, "
            "best = {k: np.array(v, dtype=np.float64) for k, v in params.items()}.",
        )
    run(again_note(call))
