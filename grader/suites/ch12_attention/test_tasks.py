"""Chapter 12: the two tasks' data, and the two training runs graded on held-out data.

``test_reversal_reaches_bar`` runs your ``train_reversal(default_rng(0))`` in the worker
(120 steps of 64 fresh sequences, one block, d_model 32, 2 heads, Adam 3e-3, clipping
at 1), then sends 500 sequences the grader drew; your model's logits come back and the
grader scores the share of tokens put in the right place.

``test_causal_sorter_greedy_decoding_reaches_bar`` runs your ``train_sorter(default_rng(0))``
(200 steps, one causal block), then the grader decodes greedily with your model: it
sends each prompt, takes the argmax of the last step's logits, appends it and asks again,
six times. The answer counts only when all six tokens are right. Training without the
causal mask still drives the training loss to almost 0, but such a model has learned to
read the answer it is supposed to write: greedy decoding exposes it.
"""

from grader.api import Rng, check_array, fail, np, points, pytest, reference

ref = reference("ch12_attention")

TRAIN_SEED, N_TEST = 0, 500
REV_T, REV_V = 8, 10
SORT_LEN, SORT_V = 6, 3

# The bars, measured with benchmarks/ch12_attention.py (the course's solution, training
# seeds 0-9, 1,000 held-out sequences; see docs/benchmarks.md):
#
#   reversal, token accuracy:        reference worst 0.948, mean 0.968;
#                                    without a positional encoding best 0.32 (mean 0.317)
#   sorting, greedy sequence acc.:   reference worst 0.979, mean 0.998;
#                                    trained without the causal mask best 0.197 (mean 0.114)
REVERSAL_BAR = 0.85
REVERSAL_MEASURED = "token accuracy 0.948-0.985 (mean 0.968) over training seeds 0-9"
SORT_BAR = 0.8
SORT_MEASURED = "greedy sequence accuracy 0.979-1.000 (mean 0.998) over training seeds 0-9"


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
    check_array(got[1], Y, call=call, what="Y (n, T)", known_bugs=[("Y is X itself: each row reversed, "
                                                                    "Y[:, t] = X[:, T - 1 - t]", X)])


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
    check_array(got[0], X, call=call, what=f"X (n, 2 * length - 1) = {X.shape}", known_bugs=[
        ("X is the whole sequence: the decoder reads S[:, :-1] (the last token is only ever predicted)", full)])
    check_array(got[1], Y, call=call, what=f"Y (n, length) = {Y.shape}")


def _train(student, name):
    got = getattr(student, name)(Rng(TRAIN_SEED))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{name}(rng) must return the pair (layers, losses)")
    return got


def _logits(student, layers, X, V, call):
    out = check_array(student.predict(layers, X), np.zeros((X.shape[0] * X.shape[1], V)), call=call,
                      what="logits (N * T, n_tokens)", atol=np.inf, nonfinite_hint="training diverged")
    return out.reshape(X.shape[0], X.shape[1], V)


def _losses_line(losses):
    try:
        return f"your training losses: first {float(losses[0]):.4g}, last {float(losses[-1]):.4g} after {len(losses)} steps"
    except (TypeError, IndexError, ValueError):
        return ""


@points(5)
@pytest.mark.call_timeout(60)
def test_reversal_reaches_bar(student, oracle):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    rng = np.random.default_rng(seed)
    X = rng.integers(0, REV_V, size=(N_TEST, REV_T))
    layers, losses = _train(student, "train_reversal")
    call = f"train_reversal(default_rng({TRAIN_SEED})) then predict(layers, X_test)"
    pred = _logits(student, layers, X, REV_V, call).argmax(axis=-1)
    acc = float(np.mean(pred == X[:, ::-1]))
    if acc >= REVERSAL_BAR:
        return
    summary = f"reversal: token accuracy {acc:.3f} on {N_TEST} held-out sequences, below the bar {REVERSAL_BAR}"
    if acc < 0.45:
        summary += (" (about 0.32 is what a model without positions reaches: is the positional encoding added after "
                    "the embedding?)")
    fail(summary, "\n".join(x for x in [call, f"The reference implementation reaches {REVERSAL_MEASURED}.",
                                        _losses_line(losses)] if x))


@points(5)
@pytest.mark.call_timeout(60)
def test_causal_sorter_greedy_decoding_reaches_bar(student, oracle):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    rng = np.random.default_rng(seed)
    prompts = rng.integers(0, SORT_V, size=(N_TEST, SORT_LEN))
    answer = np.sort(prompts, axis=1)
    layers, losses = _train(student, "train_sorter")
    call = f"train_sorter(default_rng({TRAIN_SEED})), then greedy decoding of 6 tokens with predict(layers, ...)"
    seqs = prompts
    for _ in range(SORT_LEN):
        n_steps = min(seqs.shape[1], SORT_LEN)  # the model keeps the last SORT_LEN steps
        out = check_array(student.predict(layers, seqs), np.zeros((N_TEST * n_steps, SORT_V)), call=call,
                          what="logits (N * 6, n_tokens): the last 6 steps", atol=np.inf,
                          nonfinite_hint="training diverged")
        nxt = out.reshape(N_TEST, n_steps, SORT_V)[:, -1].argmax(axis=1)
        seqs = np.concatenate([seqs, nxt[:, None]], axis=1)
    acc = float(np.mean(np.all(seqs[:, SORT_LEN:] == answer, axis=1)))
    if acc >= SORT_BAR:
        return
    summary = (f"causal sorter: greedy decoding writes the sorted answer for {acc:.3f} of {N_TEST} prompts, below the "
               f"bar {SORT_BAR}")
    details = [call, f"The reference implementation reaches {SORT_MEASURED}.", _losses_line(losses)]
    try:
        if float(losses[-1]) < 0.05:
            summary += (" although the training loss is small: a model that can see the next token while training "
                        "learns to copy it (is the causal mask applied in every block?)")
    except (TypeError, IndexError, ValueError):
        pass
    fail(summary, "\n".join(x for x in details if x))
