"""Chapter 14: the tiny BERT-like encoder (masked-token corruption, mean pooling, fine-tuning
for sequence classification, and fine-tuning against training from scratch)."""

from grader.api import Rng, StudentError, check_array, check_true, fail, keep, np, points, pytest
from grader.suites.ch14_transfer.cases import (
    expect_value_error,
    file_arrays,
    labelled_sequences,
    params_of,
    pretrained_encoder,
    ref,
    returned_model,
)
from grader.suites.common import again_note, correct_first


@points(3)
def test_mask_tokens_matches_the_rule(student, oracle):
    """(200, 16) ids: the same Generator must give the same corruption as the reference
    (the draws in the documented order); about 15 % selected, of those about 80 % masked;
    the ids themselves untouched."""
    ids = oracle.random("ids", lambda rng: rng.integers(0, 24, size=(200, 16)))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))

    def expected():
        inputs, selected = ref.mask_tokens(ids, np.random.default_rng(seed))
        wrong, _ = ref.mask_tokens(ids, np.random.default_rng(seed), bug="all_mask")
        return inputs, selected, wrong

    inputs, selected, wrong = oracle.compute("want", expected)
    handle = keep(student, ids)
    call = f"mask_tokens(ids (200, 16), default_rng({seed}))"
    got = student.mask_tokens(handle, Rng(seed))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return (inputs, selected)", f"got {type(got).__name__}")
    check_array(
        np.asarray(got[1]).astype(np.int64),
        np.asarray(selected).astype(np.int64),
        call=call,
        what="selected",
        rtol=0,
        atol=0,
    )
    check_array(
        got[0],
        inputs,
        call=call,
        what="inputs",
        rtol=0,
        atol=0,
        known_bugs=[
            (
                "every selected position became the mask: only 80 % do; 10 % get a random symbol and 10 % keep theirs",
                wrong,
            )
        ],
    )
    check_true(
        np.array_equal(np.asarray(handle.fetch()), ids),
        f"{call} modified ids in place",
        "Build new arrays (np.where) and leave the caller's ids as they were.",
    )
    again = student.mask_tokens(handle, Rng(seed))
    check_array(
        again[0],
        inputs,
        call=again_note(call),
        what="inputs",
        rtol=0,
        atol=0,
    )


@points(2)
@pytest.mark.parametrize("shape", [(3, 5, 4), (1, 7, 2)], ids=["3x5x4", "batch-of-one"])
def test_mean_pool_forward_and_backward(student, oracle, shape):
    x, d = oracle.random(
        "x", lambda rng: (rng.standard_normal(shape), rng.standard_normal((shape[0], shape[2])))
    )
    want, dx = oracle.compute(
        "want", lambda: (ref.mean_pool(x), ref.mean_pool_backward(d, shape[1]))
    )
    layer = student.MeanPool()
    check_array(
        layer.forward(x),
        want,
        call="MeanPool().forward(inputs)",
        inputs={"inputs": x},
        known_bugs=[("the positions are summed: MeanPool averages over T", want * shape[1])],
    )
    check_array(
        layer.backward(d),
        dx,
        call="MeanPool().backward(dvalues)",
        inputs={"dvalues": d},
        known_bugs=[("each position gets dvalues / T, not dvalues", dx * shape[1])],
    )


@points(3)
def test_fit_sequence_classifier_fine_tunes_like_the_reference(student, oracle):
    """ "finetune" for two full-batch steps on 12 labelled sequences: the embedding (body,
    BODY_LR), the final layer norm and the new head (Dense(32, 2) from rng, HEAD_LR) must
    match the reference; the pretrained encoder must be left unchanged."""
    X, y = oracle.random("data", lambda rng: labelled_sequences(rng, 6))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    keys = ["layer0.weights", "layer4.gamma", "layer6.weights", "layer6.biases"]

    def expected():
        enc = ref.load_encoder()
        right = ref.seq_fit(enc, X, y, seed, steps=2)
        same = ref.seq_fit(enc, X, y, seed, steps=2, strategy="same_lr")
        return {k: right[k] for k in keys}, {k: same[k] for k in keys}

    want, same = oracle.compute("want", expected)
    pre = pretrained_encoder(student)
    call = f'fit_sequence_classifier(pretrained, X (12, 16), y, "finetune", default_rng({seed}), steps=2)'
    model = returned_model(
        student.fit_sequence_classifier(pre, X, y, "finetune", Rng(seed), 2), call
    )
    got = params_of(model, keys, call)
    shipped = file_arrays("encoder-mlm.npz")
    for key in keys:
        bugs = []
        if key.startswith(("layer0", "layer4")):
            bugs = [
                (
                    "the pretrained part's learning rate equals the head's: fine-tuning trains the body with BODY_LR",
                    same[key],
                ),
                (
                    "the pretrained body did not train: fine-tuning updates it too (with BODY_LR)",
                    shipped[key],
                ),
            ]
        check_array(got[key], want[key], call=call, what=key, rtol=1e-6, known_bugs=bugs)
    still = np.asarray(pre.layers[0].weights)
    check_true(
        np.array_equal(still, shipped["layer0.weights"]),
        f"{call} changed the pretrained encoder",
        "Fine-tune copy.deepcopy(pretrained.layers[:ENCODER_BODY_LAYERS]), not the pretrained layers themselves.",
    )


@points(1)
def test_fit_sequence_classifier_scratch_starts_from_rng(student, oracle):
    """ "scratch" with steps=0: the body is a new encoder, build_transformer(N_TOKENS, rng,
    n_layers=2)'s first five layers, and the head's Dense is drawn from rng after it; nothing
    comes from the pretrained encoder."""
    X, y = oracle.random("data", lambda rng: labelled_sequences(rng, 3))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    keys = ["layer0.weights", "layer6.weights"]

    def expected():
        rng = np.random.default_rng(seed)
        body = ref.encoder_init(rng)
        head = ref.seq_head_init(rng)
        return {"layer0.weights": body["layer0.weights"], "layer6.weights": head["head.W"]}

    want = oracle.compute("want", expected)
    pre = pretrained_encoder(student)
    call = f'fit_sequence_classifier(pretrained, X (6, 16), y, "scratch", default_rng({seed}), steps=0)'
    model = returned_model(
        student.fit_sequence_classifier(pre, X, y, "scratch", Rng(seed), 0), call
    )
    got = params_of(model, keys, call)
    shipped = file_arrays("encoder-mlm.npz")
    check_array(
        got["layer0.weights"],
        want["layer0.weights"],
        call=call,
        what="the embedding (layer0.weights)",
        rtol=1e-9,
        known_bugs=[
            (
                "the scratch network starts from the pretrained encoder: build a new one "
                "(build_transformer(N_TOKENS, rng, n_layers=2).layers[:ENCODER_BODY_LAYERS])",
                shipped["layer0.weights"],
            )
        ],
    )
    check_array(
        got["layer6.weights"],
        want["layer6.weights"],
        call=call,
        what="the head's layer6.weights",
        rtol=1e-9,
    )


@points(1)
def test_fit_sequence_classifier_refuses_an_unknown_strategy(student, oracle):
    """A strategy outside SEQ_STRATEGIES ("features") raises a ValueError rather than training
    something; counts only together with a right new head ("finetune", steps=0)."""
    X, y = oracle.random("data", lambda rng: labelled_sequences(rng, 3))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute(
        "want", lambda: ref.seq_fit(ref.load_encoder(), X, y, seed, steps=0)["layer6.weights"]
    )
    pre = pretrained_encoder(student)
    call = f'fit_sequence_classifier(pretrained, X (6, 16), y, "finetune", default_rng({seed}), steps=0)'

    def head_right():
        model = returned_model(
            student.fit_sequence_classifier(pre, X, y, "finetune", Rng(seed), 0), call
        )
        got = params_of(model, ["layer6.weights"], call)
        check_array(
            got["layer6.weights"], want, call=call, what="the head's layer6.weights", rtol=1e-9
        )

    correct_first(
        oracle, head_right, fix="test_fit_sequence_classifier_fine_tunes_like_the_reference"
    )
    expect_value_error(
        'fit_sequence_classifier(pretrained, X, y, "features", rng, steps=0)',
        lambda: student.fit_sequence_classifier(pre, X, y, "features", Rng(0), 0),
        'Check the strategy first: only "finetune" and "scratch" exist (anything else must not '
        "silently train another strategy).",
    )


PER_CLASS, SUBSETS, N_TEST = 3, 5, 400
GAIN_BAR = 0.03  # the mean of (fine-tuned - scratch) test accuracy over the paired subsets
ACCURACY_BAR = 0.89  # the fine-tuned encoder's mean test accuracy; see docs/benchmarks.md
SEQ_MEASURED = "see docs/benchmarks.md (chapter 14)"


@points(5)
@pytest.mark.call_timeout(60)
def test_fine_tuned_encoder_beats_scratch(student, oracle):
    """Five labelled subsets of 3 sequences per chain: fit_sequence_classifier "finetune"
    and "scratch" on the same subset (default settings, rng default_rng(k) for subset k);
    accuracy on 400 new sequences. The fine-tuned encoder must reach ACCURACY_BAR on
    average and beat its from-scratch twin by GAIN_BAR on average."""
    subsets = oracle.random(
        "subsets", lambda rng: [labelled_sequences(rng, PER_CLASS) for _ in range(SUBSETS)]
    )
    Xt, yt = oracle.random("test", lambda rng: labelled_sequences(rng, N_TEST // 2))
    pre = pretrained_encoder(student)
    acc = {"finetune": [], "scratch": []}
    for k, (X, y) in enumerate(subsets):
        for strategy in acc:
            call = (
                f'fit_sequence_classifier(pretrained, 6 sequences, "{strategy}", default_rng({k}))'
            )
            try:
                model = returned_model(
                    student.fit_sequence_classifier(pre, X, y, strategy, Rng(k)), call
                )
            except StudentError as exc:
                if exc.kind == "timeout":
                    fail(f"{call} did not finish in time (the course's takes about a second)")
                raise
            probs = check_array(
                model.predict(Xt),
                np.zeros((len(yt), 2)),
                atol=np.inf,
                call=call + ", then predict(400 sequences)",
                nonfinite_hint="training diverged",
            )
            acc[strategy].append(float(np.mean(np.argmax(np.asarray(probs), axis=1) == yt)))
    ft, sc = np.array(acc["finetune"]), np.array(acc["scratch"])
    gain = float(np.mean(ft - sc))
    if gain >= GAIN_BAR and ft.mean() >= ACCURACY_BAR:
        return
    table = "\n".join(
        f"subset {k}: fine-tuned {a:.3f}, scratch {b:.3f}" for k, (a, b) in enumerate(zip(ft, sc))
    )
    fail(
        f"the fine-tuned encoder: mean accuracy {ft.mean():.3f} (bar {ACCURACY_BAR}), mean gain over scratch "
        f"{gain:+.3f} (bar {GAIN_BAR})",
        f"{table}\nThe reference: {SEQ_MEASURED}. Check that the body is the pretrained encoder's "
        "(layers 0-4, copied), that the head is new, and the learning rates (fine_tune_groups).",
    )
