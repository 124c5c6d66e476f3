"""Chapter 12: the two tasks' data, and the two training runs graded on held-out data.

``test_reversal_reaches_bar`` runs your ``train_reversal(default_rng(0))`` in the worker
(one epoch of your ``Model`` over 120 batches of 64 sequences, one block, d_model 32,
2 heads, Adam 3e-3), then sends 500 sequences the grader drew to ``model.predict``; the
logits come back and the grader scores the share of tokens put in the right place.

``test_causal_sorter_greedy_decoding_reaches_bar`` runs your ``train_sorter(default_rng(0))``
(300 batches, one causal block, Adam 3e-3), then the grader decodes greedily with your
model: it sends each prompt, takes the argmax of the last step's logits, appends it and
asks again, six times. The answer counts only when all six tokens are right. Training
without the causal mask still drives the training loss down as far, but such a model has
learned to read the answer it is supposed to write: greedy decoding exposes it.
"""

from grader.api import Rng, check_array, check_scalar, fail, np, points, pytest, reference

ref = reference("ch12_attention")

TRAIN_SEED, N_TEST = 0, 500
REV_T, REV_V = 8, 10
SORT_LEN, SORT_V = 6, 3

# The bars, measured with benchmarks/ch12_attention.py (the course's solution, training
# seeds 0-9, 1,000 held-out sequences; see docs/benchmarks.md):
#
#   reversal, token accuracy:        reference worst 0.943, mean 0.968, best 0.987;
#                                    without a positional encoding best 0.321 (mean 0.317)
#   sorting, greedy sequence acc.:   reference worst 0.990, mean 0.999, best 1.000;
#                                    trained without the causal mask best 0.230 (mean 0.131)
REVERSAL_BAR = 0.85
REVERSAL_MEASURED = "token accuracy 0.943-0.987 (mean 0.968) over training seeds 0-9"
SORT_BAR = 0.8
SORT_MEASURED = "greedy sequence accuracy 0.990-1.000 (mean 0.999) over training seeds 0-9"


@points(1)
@pytest.mark.parametrize("n,T,V", [(4, 6, 10), (1, 3, 5)], ids=["4x6", "one-sequence"])
def test_reversal_data_matches_reference(student, oracle, n, T, V):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    X, Y = oracle.compute("want", lambda: ref.reversal_data(n, T, V, np.random.default_rng(seed)))
    call = f"reversal_data({n}, {T}, {V}, rng=default_rng({seed}))"
    got = student.reversal_data(n, T, V, Rng(seed))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (X, Y)")
    check_array(got[0], X, call=call, what="X (n, T)")
    check_array(
        got[1],
        Y,
        call=call,
        what="Y (n, T)",
        known_bugs=[("Y is X itself: each row reversed, Y[:, t] = X[:, T - 1 - t]", X)],
    )


@points(1)
@pytest.mark.parametrize("n,length,V", [(5, 4, 3), (1, 6, 3)], ids=["5x4", "one-prompt"])
def test_sort_data_matches_reference(student, oracle, n, length, V):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    X, Y = oracle.compute("want", lambda: ref.sort_data(n, length, V, np.random.default_rng(seed)))
    call = f"sort_data({n}, {length}, {V}, rng=default_rng({seed}))"
    got = student.sort_data(n, length, V, Rng(seed))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (X, Y)")
    full = np.concatenate([X, Y[:, -1:]], axis=1)
    check_array(
        got[0],
        X,
        call=call,
        what=f"X (n, 2 * length - 1) = {X.shape}",
        known_bugs=[
            (
                "X is the whole sequence: the decoder reads S[:, :-1] (the last token is only ever predicted)",
                full,
            )
        ],
    )
    check_array(got[1], Y, call=call, what=f"Y (n, length) = {Y.shape}")


@points(1)
@pytest.mark.parametrize("n,batch_size", [(20, 8), (12, 12)], ids=["3-batches", "one-batch"])
def test_train_model_is_one_epoch_of_the_given_batches(student, n, batch_size):
    """The docstring: train_model(model, X, Y, learning_rate, rng, batch_size) sets Adam
    with that learning rate and trains one epoch in batches of ``batch_size``: the optimizer
    takes ceil(n / batch_size) steps and the history has one entry."""
    rng = np.random.default_rng(n)
    X, Y = rng.integers(0, 5, size=(n, 4)), rng.integers(0, 5, size=(n, 4))
    model = student.build_transformer(5, Rng(1), d_model=8, n_heads=2, d_ff=16)
    call = f"train_model(model, X ({n}, 4), Y, learning_rate=0.004, rng, batch_size={batch_size})"
    history = student.train_model(model, X, Y, 0.004, Rng(2), batch_size=batch_size)
    steps = -(-n // batch_size)
    opt = model.optimizer
    check_scalar(opt.learning_rate, 0.004, call=call, what="the optimizer's learning_rate")
    check_scalar(
        opt.iterations,
        steps,
        call=call,
        what=f"optimizer steps (one epoch of batches of {batch_size}: ceil({n} / {batch_size}))",
    )
    if not isinstance(history, dict) or len(history.get("loss", [])) != 1:
        fail(
            f"{call} must return the history of one epoch (model.train's dict, one loss)",
            f"got {history!r:.200}",
        )


def _train(student, name):
    got = getattr(student, name)(Rng(TRAIN_SEED))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{name}(rng) must return the pair (model, history)")
    return got


def _final_loss(history):
    try:
        return float(history["loss"][-1])
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def _loss_line(history):
    loss = _final_loss(history)
    return "" if loss is None else f"your training loss (the epoch's mean): {loss:.4g}"


@points(5)
@pytest.mark.call_timeout(60)
def test_reversal_reaches_bar(student, oracle):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    rng = np.random.default_rng(seed)
    X = rng.integers(0, REV_V, size=(N_TEST, REV_T))
    model, history = _train(student, "train_reversal")
    call = f"train_reversal(default_rng({TRAIN_SEED})) then model.predict(X_test)"
    pred = check_array(
        model.predict(X),
        np.zeros((N_TEST, REV_T, REV_V)),
        call=call,
        what="logits (N, T, n_tokens)",
        atol=np.inf,
        nonfinite_hint="training diverged",
    ).argmax(axis=-1)
    acc = float(np.mean(pred == X[:, ::-1]))
    if acc >= REVERSAL_BAR:
        return
    summary = f"reversal: token accuracy {acc:.3f} on {N_TEST} held-out sequences, below the bar {REVERSAL_BAR}"
    if acc < 0.45:
        summary += (
            " (about 0.32 is what a model without positions reaches: is the positional encoding added after "
            "the embedding?)"
        )
    fail(
        summary,
        "\n".join(
            x
            for x in [
                call,
                f"The reference implementation reaches {REVERSAL_MEASURED}.",
                _loss_line(history),
            ]
            if x
        ),
    )


@points(5)
@pytest.mark.call_timeout(60)
def test_causal_sorter_greedy_decoding_reaches_bar(student, oracle):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    rng = np.random.default_rng(seed)
    prompts = rng.integers(0, SORT_V, size=(N_TEST, SORT_LEN))
    answer = np.sort(prompts, axis=1)
    model, history = _train(student, "train_sorter")
    call = f"train_sorter(default_rng({TRAIN_SEED})), then greedy decoding of 6 tokens with model.predict"
    seqs = prompts
    for _ in range(SORT_LEN):
        out = check_array(
            model.predict(seqs),
            np.zeros((N_TEST, SORT_LEN, SORT_V)),
            call=call,
            what="logits (N, 6, n_tokens): the last 6 steps",
            atol=np.inf,
            nonfinite_hint="training diverged",
        )
        seqs = np.concatenate([seqs, out[:, -1].argmax(axis=1)[:, None]], axis=1)
    acc = float(np.mean(np.all(seqs[:, SORT_LEN:] == answer, axis=1)))
    if acc >= SORT_BAR:
        return
    summary = (
        f"causal sorter: greedy decoding writes the sorted answer for {acc:.3f} of {N_TEST} prompts, below the "
        f"bar {SORT_BAR}"
    )
    details = [call, f"The reference implementation reaches {SORT_MEASURED}.", _loss_line(history)]
    loss = _final_loss(history)
    if loss is not None and loss < 0.3:
        summary += (
            " although the training loss is small: a model that can see the next token while training "
            "learns to copy it (is the causal mask applied in every block?)"
        )
    fail(summary, "\n".join(x for x in details if x))
