"""Chapter 14: digits 0-4 -> 5-9 with a few labels: the new head, feature extraction, how
each strategy starts and trains, and the transfer-against-scratch comparison."""

from grader.api import Rng, StudentError, check_array, check_true, fail, np, points, pytest
from grader.suites.ch14_transfer.cases import (
    digits,
    expect_value_error,
    labelled_subset,
    params_of,
    pretrained_arrays,
    pretrained_model,
    ref,
    returned_model,
)
from grader.suites.common import correct_first, type_name

REF_NAMES = {
    "layer0.weights": "conv1.W",
    "layer0.biases": "conv1.b",
    "layer3.weights": "conv2.W",
    "layer3.biases": "conv2.b",
    "layer7.weights": "fc1.W",
    "layer7.biases": "fc1.b",
    "layer9.weights": "fc2.W",
    "layer9.biases": "fc2.b",
    "layer11.weights": "fc3.W",
    "layer11.biases": "fc3.b",
}
# The arrays the tests compare (all of them would make the public fixtures megabytes long):
# both Conv2D's biases, the first kernel, every Dense's biases and the last Dense's weights.
COMPARED = [
    "layer0.weights",
    "layer0.biases",
    "layer3.biases",
    "layer7.biases",
    "layer9.biases",
    "layer11.weights",
    "layer11.biases",
]
COMPARED_BODY = COMPARED[:3]
OLD_HEAD = "the head was not re-initialised: new_head(rng) gives new dense layers (the pretrained head only knows the digits 0-4)"


@points(2)
def test_new_head_layers_and_he_weights(student, oracle):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    rows = {"fc1": 5, "fc2": 5, "fc3": 84}  # the first rows of each weight matrix are compared
    want = oracle.compute(
        "want",
        lambda: {
            k: v[: rows[k[:3]]]
            for k, v in ref.head_init(np.random.default_rng(seed)).items()
            if k.endswith(".W")
        },
    )
    call = f"new_head(default_rng({seed}))"
    layers = student.new_head(Rng(seed))
    names = [type_name(layer) for layer in layers]
    kinds = ["Dense", "ReLU", "Dense", "ReLU", "Dense", "Softmax"]
    same = names == kinds  # kind: the layers new_head builds
    check_true(same, f"{call} must return {kinds}, got {names}")
    for i, name in ((0, "fc1"), (2, "fc2"), (4, "fc3")):
        W = want[name + ".W"]
        got = np.asarray(layers[i].weights)
        shape = {"fc1": (400, 120), "fc2": (120, 84), "fc3": (84, 10)}[name]
        check_true(
            got.shape == shape,
            f"{call}: layer {i}'s weights have shape {got.shape}, expected {shape}",
        )
        check_array(
            got[: len(W)],
            W,
            call=call,
            what=f"layer {i}'s weights (first {len(W)} rows)",
            rtol=1e-9,
            known_bugs=[
                (
                    "the weights are not He-scaled: weight_scale=sqrt(2 / n_inputs) for each Dense",
                    W / np.sqrt(2.0 / shape[0]),
                )
            ],
        )


@points(1)
def test_new_head_honours_n_classes(student, oracle):
    """new_head(rng, n_classes=3): the last Dense maps 84 features to 3 classes; the first
    one's weights (the same draws as for 10 classes) must be right for the test to count."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute("want", lambda: ref.head_init(np.random.default_rng(seed))["fc1.W"][:5])
    call = f"new_head(default_rng({seed}), n_classes=3)"
    layers = student.new_head(Rng(seed), 3)
    names = [type_name(layer) for layer in layers]
    kinds = ["Dense", "ReLU", "Dense", "ReLU", "Dense", "Softmax"]
    check_true(names == kinds, f"{call} must return {kinds}, got {names}")
    check_array(
        np.asarray(layers[0].weights)[:5],
        want,
        call=call,
        what="layer 0's weights (first 5 rows)",
        rtol=1e-9,
    )
    shapes = [np.shape(layers[4].weights), np.shape(layers[4].biases)]
    check_true(
        shapes == [(84, 3), (1, 3)],
        f"{call}: the last Dense has weights {shapes[0]} and biases {shapes[1]}, expected (84, 3) and (1, 3)",
        "The last Dense gives one output per class: Dense(84, n_classes), not a fixed 10.",
    )


@points(2)
def test_extract_features_matches_reference(student, oracle):
    """The shipped body (layers 0-6) on 7 images, 3 at a time: (7, 400) features."""
    X, _, parts = digits()
    idx = parts["pool"][:7]
    want = oracle.compute("want", lambda: ref.body_features(ref.load_pretrained(), X[idx]))
    model = pretrained_model(student)
    got = student.extract_features(model.layers[:7], X[idx], 3)
    check_array(
        got,
        want,
        call="extract_features(body, images (7, 1, 28, 28), batch_size=3)",
        inputs={"images": X[idx]},
    )


def _start(student, oracle, strategy):
    X, y, parts = digits()
    idx = parts["pool"][:10]
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute(
        "want",
        lambda: {
            k: ref.few_label_start(ref.load_pretrained(), strategy, seed)[REF_NAMES[k]]
            for k in COMPARED
        },
    )
    pre = pretrained_model(student)
    call = f'fit_few_labels(pretrained, X, y, "{strategy}", default_rng({seed}), steps=0)'
    model = returned_model(
        student.fit_few_labels(pre, X[idx], y[idx], strategy, Rng(seed), 0), call
    )
    return pre, model, want, call


@points(3)
@pytest.mark.parametrize("strategy", ["features", "finetune", "scratch"])
def test_fit_few_labels_starts_from_the_right_weights(student, oracle, strategy):
    """With steps=0 nothing trains: the returned network must hold the pretrained body
    (a new one for "scratch") and a new head drawn from rng; "features" freezes the body;
    the pretrained model itself is left unchanged."""
    pre, model, want, call = _start(student, oracle, strategy)
    got = params_of(model, COMPARED, call)
    shipped = pretrained_arrays()
    for key in COMPARED_BODY:
        bugs = []
        if strategy == "scratch":
            bugs = [
                (
                    "the scratch network starts from the pretrained body: draw a new one (new_body(rng))",
                    shipped[key],
                )
            ]
        check_array(
            got[key], want[key], call=call, what=f"the body's {key}", rtol=1e-9, known_bugs=bugs
        )
    for key in COMPARED[3:]:
        check_array(
            got[key],
            want[key],
            call=call,
            what=f"the head's {key}",
            rtol=1e-9,
            known_bugs=[(OLD_HEAD, shipped[key])],
        )
    flags = [model.layers[i].trainable for i in (0, 3, 7)]
    frozen = strategy == "features"
    check_true(
        flags == [not frozen, not frozen, True],
        f"{call}: trainable flags of the two Conv2D and the first Dense are {flags}, expected {[not frozen] * 2 + [True]}",
        'Only "features" freezes the body (set_trainable(body, False)); the head always trains.',
    )
    check_true(
        pre.layers[0].trainable is True,
        f"{call} changed the pretrained model (its first layer is now frozen)",
        "Work on copy.deepcopy(pretrained.layers[:BODY_LAYERS]): the next run needs the pretrained model as it was.",
    )


@points(3)
@pytest.mark.parametrize("strategy", ["features", "finetune", "scratch"])
def test_fit_few_labels_trains_like_the_reference(student, oracle, strategy):
    """Four full-batch steps on ten labelled images: the body's and the head's parameters
    must match the reference (which trains the frozen body not at all, the fine-tuned body
    with BODY_LR and everything else with HEAD_LR)."""
    X, y, parts = digits()
    idx = oracle.random("idx", lambda rng: labelled_subset(rng, 2))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))

    def expected():
        pre = ref.load_pretrained()
        runs = {
            s: ref.few_label_fit(pre, X[idx], y[idx], s, seed, steps=4)
            for s in (strategy, "finetune_same_lr")
        }
        return {s: {k: p[REF_NAMES[k]] for k in COMPARED} for s, p in runs.items()}

    want = oracle.compute("want", expected)
    pre = pretrained_model(student)
    call = (
        f'fit_few_labels(pretrained, X (10 images), y, "{strategy}", default_rng({seed}), steps=4)'
    )
    model = returned_model(
        student.fit_few_labels(pre, X[idx], y[idx], strategy, Rng(seed), 4), call
    )
    got = params_of(model, COMPARED, call)
    shipped = pretrained_arrays()
    for key in COMPARED:
        bugs = []
        if key in COMPARED_BODY and strategy == "finetune":
            bugs.append(
                (
                    "the pretrained part's learning rate equals the head's: fine-tuning trains the body with "
                    "BODY_LR (fine_tune_groups)",
                    want["finetune_same_lr"][key],
                )
            )
            bugs.append(
                (
                    "the body did not train: fine-tuning updates the body too (with BODY_LR)",
                    shipped[key],
                )
            )
        if key in COMPARED_BODY and strategy == "features":
            bugs.append(
                (
                    "frozen layers still updated: set_trainable(body, False) before training",
                    want["finetune_same_lr"][key],
                )
            )
        check_array(got[key], want[strategy][key], call=call, what=key, rtol=1e-6, known_bugs=bugs)
    changed = [
        k
        for i, k in ((0, "layer0.weights"), (3, "layer3.weights"))
        if not np.array_equal(np.asarray(pre.layers[i].weights), shipped[k])
    ]
    check_true(
        not changed,
        f"{call} changed the pretrained model ({changed[0] if changed else ''})",
        "Train copy.deepcopy(pretrained.layers[:BODY_LAYERS]), not the pretrained layers themselves: "
        "the next run needs the pretrained model as it was.",
    )


@points(1)
def test_fit_few_labels_refuses_an_unknown_strategy(student, oracle):
    """A strategy outside STRATEGIES ("finetuning") raises a ValueError rather than training
    something; counts only together with a right "scratch" start (steps=0)."""
    _, model, want, call = _start(student, oracle, "scratch")

    def starts_right():
        got = params_of(model, COMPARED_BODY, call)
        check_array(
            got["layer0.weights"],
            want["layer0.weights"],
            call=call,
            what="layer0.weights",
            rtol=1e-9,
        )

    correct_first(
        oracle, starts_right, fix="test_fit_few_labels_starts_from_the_right_weights[scratch]"
    )
    X, y, parts = digits()
    idx = parts["pool"][:10]
    pre = pretrained_model(student)
    expect_value_error(
        'fit_few_labels(pretrained, X, y, "finetuning", rng, steps=0)',
        lambda: student.fit_few_labels(pre, X[idx], y[idx], "finetuning", Rng(0), 0),
        'Check the strategy first: only "features", "finetune" and "scratch" exist (a typo must not '
        "silently train another strategy).",
    )


@points(1)
def test_fit_few_labels_returns_the_optimizer_that_trained_it(student, oracle):
    """ "features" for three steps: the returned network's optimizer is the Adam that trained
    the head (it has taken three steps), so training can go on from its moments. Counts
    only together with the right trained head."""
    X, y, _ = digits()
    idx = oracle.random("idx", lambda rng: labelled_subset(rng, 2))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute(
        "want",
        lambda: ref.few_label_fit(ref.load_pretrained(), X[idx], y[idx], "features", seed, steps=3)[
            REF_NAMES["layer11.biases"]
        ],
    )
    pre = pretrained_model(student)
    call = f'fit_few_labels(pretrained, X (10 images), y, "features", default_rng({seed}), steps=3)'
    model = returned_model(
        student.fit_few_labels(pre, X[idx], y[idx], "features", Rng(seed), 3), call
    )

    def head_right():
        got = params_of(model, ["layer11.biases"], call)
        check_array(got["layer11.biases"], want, call=call, what="layer11.biases", rtol=1e-6)

    correct_first(oracle, head_right, fix="test_fit_few_labels_trains_like_the_reference[features]")
    steps = model.optimizer.iterations
    check_true(
        steps == 3,
        f"{call}: the returned model's optimizer has taken {steps} steps, expected 3",
        "Return assemble(body + head, optimizer) with the very Adam that trained the head on the "
        "features, not a new one.",
    )


# ------------------------------------------------------------------ the comparison

PER_CLASS, SUBSETS, PAIRED = (
    5,
    8,
    4,
)  # 8 subsets for feature extraction, the first 4 also from scratch
GAIN_BAR = 0.0  # mean of (features - scratch) accuracy over the paired subsets must exceed it
ACCURACY_BAR = 0.79  # mean accuracy of feature extraction; see docs/benchmarks.md (chapter 14)
MEASURED = "see docs/benchmarks.md (chapter 14)"


@points(6)
@pytest.mark.call_timeout(60)
def test_transfer_beats_scratch_with_few_labels(student, oracle):
    """Eight labelled subsets of 5 images per digit 5-9 (25 labels): fit_few_labels with
    "features" on each, and with "scratch" on the first four (default settings, rng
    default_rng(k) for subset k); accuracy on the 492 held-out digits 5-9. The mean accuracy
    of feature extraction must reach the bar, and its mean gain over scratch on the paired
    subsets must be positive."""
    X, y, parts = digits()
    subsets = oracle.random(
        "subsets", lambda rng: [labelled_subset(rng, PER_CLASS) for _ in range(SUBSETS)]
    )
    test = parts["target_test"]
    pre = pretrained_model(student)
    acc = {"features": [], "scratch": []}
    for k, idx in enumerate(subsets):
        for strategy in acc if k < PAIRED else ["features"]:
            call = f'fit_few_labels(pretrained, 25 images, "{strategy}", default_rng({k}))'
            try:
                model = returned_model(
                    student.fit_few_labels(pre, X[idx], y[idx], strategy, Rng(k)), call
                )
            except StudentError as exc:
                if exc.kind == "timeout":
                    fail(f"{call} did not finish in time (the course's takes about 1 s)")
                raise
            # in batches: every model the test builds stays alive in the worker until the
            # chapter ends, with the caches of its last forward pass
            probs = check_array(
                model.predict(X[test], batch_size=50),
                np.zeros((len(test), 10)),
                atol=np.inf,
                call=call + ", then predict(492 images, batch_size=50)",
                nonfinite_hint="training diverged",
            )
            acc[strategy].append(float(np.mean(np.argmax(np.asarray(probs), axis=1) == y[test])))
    feats, scratch = np.array(acc["features"]), np.array(acc["scratch"])
    gain = float(np.mean(feats[:PAIRED] - scratch))
    table = "\n".join(
        f"subset {k}: features {a:.3f}" + (f", scratch {scratch[k]:.3f}" if k < PAIRED else "")
        for k, a in enumerate(feats)
    )
    if gain > GAIN_BAR and feats.mean() >= ACCURACY_BAR:
        return
    fail(
        f"feature extraction: mean accuracy {feats.mean():.3f} (bar {ACCURACY_BAR}), mean gain over scratch "
        f"{gain:+.3f} (must be > {GAIN_BAR})",
        f"{table}\nThe reference: {MEASURED}.\nCheck that the body is the pretrained one (copied, frozen), "
        "that the head is new, and the tests of new_head and extract_features first.",
    )
