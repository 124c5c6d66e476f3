"""Chapter 14: the three quality bars (few-label transfer, the fine-tuned encoder, style
transfer), each against broken variants, over grading seeds.

    python benchmarks/ch14_transfer.py [--seeds 10] [--tasks transfer sequence style] [--check]

Replays each graded run exactly as the suite draws it (``grader/suites/ch14_transfer/``:
the labelled subsets and the style test's images come from the oracle's Generator for the
grading seed, ``python -m grader grade ch14 --seed S``) with the course's solution, for
grading seeds 0..N-1 and the public seed, and the same runs with known broken variants:

* transfer: feature extraction on a body that was never pretrained (random convolutions,
  frozen); feature extraction whose head learns with BODY_LR (the two rates swapped);
  feature extraction that keeps the pretrained head (not re-initialised);
  the bar asks for a mean accuracy of feature extraction and a positive mean gain over
  training from scratch on the same subsets;
* sequence: "finetune" from an encoder that was never pretrained (a new one), and
  fine-tuning with the body at the head's learning rate; the bar asks for a mean accuracy
  of the fine-tuned encoder and a mean gain over its from-scratch twin;
* style: the image's gradient without the style term at layer 1, and without any style
  term (content and total variation only); the bar asks the style loss, measured by the
  grader, to fall to a share of its start.

``--check`` also runs the reference (``reference/ch14_transfer``) on grading seed 0's first
subset and the style test's images, next to the solution: they agree to rounding. One BLAS
thread throughout.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader.oracle import PUBLIC_SEED, Oracle, Store  # noqa: E402
from reference import ch14_transfer as ref  # noqa: E402
from solutions import ch14_transfer as sol  # noqa: E402
from solutions.ch14_transfer import style as sol_style  # noqa: E402

SUITE = ROOT / "grader" / "suites" / "ch14_transfer"


def suite(name):
    spec = importlib.util.spec_from_file_location(f"ch14_{name}", SUITE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def oracle(seed, test):
    return Oracle("ch14_transfer", test, seed, Store("hidden"), record=False)


def pretrained():
    return sol.Model.load(sol.PRETRAINED_DIR / sol.MODEL_FILE)


def transfer_run(seed, variant, cases, t):
    """(mean accuracy of feature extraction, mean paired gain over scratch, per-run seconds)."""
    X, y, parts = cases.digits()
    test_id = "ch14_transfer/test_few_labels.py::test_transfer_beats_scratch_with_few_labels"
    subsets = oracle(seed, test_id).random(
        "subsets", lambda rng: [cases.labelled_subset(rng, t.PER_CLASS) for _ in range(t.SUBSETS)]
    )
    pre = pretrained()
    if variant == "random_body":
        pre = sol.build_lenet(np.random.default_rng(1234))
    head_lr = sol.HEAD_LR
    if variant == "head_at_body_lr":
        sol.few_labels.HEAD_LR = sol.BODY_LR
    feats, scratch, start = [], [], time.process_time()
    for k, idx in enumerate(subsets):
        if variant == "old_head":
            head = copy.deepcopy(pre.layers[sol.BODY_LAYERS :])
            model = _features_with_head(pre, head, X[idx], y[idx])
        else:
            model = sol.fit_few_labels(pre, X[idx], y[idx], "features", np.random.default_rng(k))
        feats.append(_accuracy(model, X, y, parts))
        if k >= t.PAIRED:
            continue
        sol.few_labels.HEAD_LR = head_lr
        model = sol.fit_few_labels(pre, X[idx], y[idx], "scratch", np.random.default_rng(k))
        scratch.append(_accuracy(model, X, y, parts))
        if variant == "head_at_body_lr":
            sol.few_labels.HEAD_LR = sol.BODY_LR
    sol.few_labels.HEAD_LR = head_lr
    seconds = time.process_time() - start
    gain = float(np.mean(np.array(feats[: t.PAIRED]) - np.array(scratch)))
    return float(np.mean(feats)), gain, seconds


def _features_with_head(pre, head, X, y):
    body = copy.deepcopy(pre.layers[: sol.BODY_LAYERS])
    sol.set_trainable(body, False)
    optimizer = sol.Adam(learning_rate=sol.HEAD_LR)
    sol.assemble(head, optimizer).train(
        sol.extract_features(body, X), y, epochs=sol.FEW_STEPS, progress=False
    )
    return sol.assemble(body + head, optimizer)


def _accuracy(model, X, y, parts):
    test = parts["target_test"]
    return float(np.mean(np.argmax(model.predict(X[test]), axis=1) == y[test]))


def sequence_run(seed, variant, cases, t):
    """(mean accuracy of the fine-tuned encoder, mean paired gain over scratch, seconds per run)."""
    test_id = "ch14_transfer/test_sequences.py::test_fine_tuned_encoder_beats_scratch"
    o = oracle(seed, test_id)
    subsets = o.random(
        "subsets",
        lambda rng: [cases.labelled_sequences(rng, t.PER_CLASS) for _ in range(t.SUBSETS)],
    )
    Xt, yt = o.random("test", lambda rng: cases.labelled_sequences(rng, t.N_TEST // 2))
    pre = sol.Model.load(sol.PRETRAINED_DIR / sol.ENCODER_FILE)
    if variant == "new_encoder":
        pre = sol.build_transformer(sol.N_TOKENS, np.random.default_rng(4321), n_layers=2)
    groups = sol.sequences.fine_tune_groups
    if variant == "same_rate":
        sol.sequences.fine_tune_groups = lambda body, head: sol.ParamGroups(
            [
                (body, sol.Adam(learning_rate=sol.HEAD_LR)),
                (head, sol.Adam(learning_rate=sol.HEAD_LR)),
            ]
        )
    ft, sc, start = [], [], time.process_time()
    try:
        for k, (X, y) in enumerate(subsets):
            for strategy, out in (("finetune", ft), ("scratch", sc)):
                model = sol.fit_sequence_classifier(pre, X, y, strategy, np.random.default_rng(k))
                out.append(float(np.mean(np.argmax(model.predict(Xt), axis=1) == yt)))
    finally:
        sol.sequences.fine_tune_groups = groups
    seconds = (time.process_time() - start) / (2 * len(subsets))
    return float(np.mean(ft)), float(np.mean(np.array(ft) - np.array(sc))), seconds


def style_images(seed, cases):
    X, _, parts = cases.digits()
    test_id = "ch14_transfer/test_style.py::test_stylize_lowers_the_style_loss"
    ci, si = oracle(seed, test_id).random(
        "images",
        lambda rng: (
            int(rng.choice(parts["target_test"])),
            int(rng.choice(parts["source_test"])),
        ),
    )
    return X[ci : ci + 1], X[si : si + 1]


def style_run(seed, variant, cases):
    """(style loss at the end / at the start, as the grader measures it; seconds)."""
    content, style = style_images(seed, cases)
    original = sol_style.style_transfer_loss
    if variant != "correct":
        sol_style.style_transfer_loss = _broken_loss(variant)
    start = time.process_time()
    try:
        image, _ = sol.stylize(pretrained().layers, content, style)
    finally:
        sol_style.style_transfer_loss = original
    ratio = cases.measured_style_loss(image, style) / cases.measured_style_loss(content, style)
    return ratio, time.process_time() - start


def _broken_loss(variant):
    def loss(layers, image, targets, weights=(sol.CONTENT_WEIGHT, sol.STYLE_WEIGHT, sol.TV_WEIGHT)):
        wc, ws, wt = weights
        P, A1, A4 = targets
        _, f4 = sol.feature_maps(layers, image, sol.STYLE_LAYERS)
        g4 = sol.gram(f4)
        ws4 = 0.0 if variant == "no_style" else ws
        total = (
            wc * sol.content_loss(f4, P) + ws4 * sol.style_loss(g4, A4) + wt * sol.tv_loss(image)
        )
        d = ws4 * sol.gram_backward(sol.style_loss_backward(g4, A4), f4)
        d = d + wc * sol.content_loss_backward(f4, P)
        for i in (4, 3, 2, 1, 0):
            d = layers[i].backward(d)
        return total, d + wt * sol.tv_loss_backward(image)

    return loss


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tasks", nargs="+", default=["transfer", "sequence", "style"])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    cases, t_few, t_style = suite("cases"), suite("test_few_labels"), suite("test_style")
    t_seq = suite("test_sequences")
    seeds = list(range(args.seeds)) + [PUBLIC_SEED]
    if "transfer" in args.tasks:
        print(
            f"transfer bar: mean accuracy of feature extraction >= {t_few.ACCURACY_BAR}, "
            f"mean gain over scratch > {t_few.GAIN_BAR}"
        )
        for variant in ("correct", "random_body", "head_at_body_lr", "old_head"):
            rows = []
            for seed in seeds:
                acc, gain, seconds = transfer_run(seed, variant, cases, t_few)
                passed = acc >= t_few.ACCURACY_BAR and gain > t_few.GAIN_BAR
                rows.append((acc, gain, passed))
                print(
                    f"transfer {variant} seed {seed}: accuracy {acc:.3f}, gain {gain:+.3f}"
                    f" ({'passes' if passed else 'fails'}; {seconds:.1f} s CPU in all)",
                    flush=True,
                )
            a = np.array([r[:2] for r in rows])
            print(
                f"transfer {variant}: accuracy worst/mean/best {a[:, 0].min():.3f} / {a[:, 0].mean():.3f} / "
                f"{a[:, 0].max():.3f}; gain worst/mean/best {a[:, 1].min():+.3f} / {a[:, 1].mean():+.3f} / "
                f"{a[:, 1].max():+.3f}; passes {sum(r[2] for r in rows)} of {len(rows)}",
                flush=True,
            )
    if "sequence" in args.tasks:
        print(
            f"sequence bar: mean accuracy of the fine-tuned encoder >= {t_seq.ACCURACY_BAR}, "
            f"mean gain over scratch >= {t_seq.GAIN_BAR}"
        )
        for variant in ("correct", "new_encoder", "same_rate"):
            rows = []
            for seed in seeds:
                acc, gain, seconds = sequence_run(seed, variant, cases, t_seq)
                passed = acc >= t_seq.ACCURACY_BAR and gain >= t_seq.GAIN_BAR
                rows.append((acc, gain, passed))
                print(
                    f"sequence {variant} seed {seed}: accuracy {acc:.3f}, gain {gain:+.3f}"
                    f" ({'passes' if passed else 'fails'}; {seconds:.2f} s CPU per run)",
                    flush=True,
                )
            a = np.array([r[:2] for r in rows])
            print(
                f"sequence {variant}: accuracy worst/mean/best {a[:, 0].min():.3f} / {a[:, 0].mean():.3f} / "
                f"{a[:, 0].max():.3f}; gain worst/mean/best {a[:, 1].min():+.3f} / {a[:, 1].mean():+.3f} / "
                f"{a[:, 1].max():+.3f}; passes {sum(r[2] for r in rows)} of {len(rows)}",
                flush=True,
            )
    if "style" in args.tasks:
        print(f"style bar: end / start <= {t_style.STYLE_FRACTION}")
        for variant in ("correct", "no_layer1", "no_style"):
            ratios = []
            for seed in seeds:
                ratio, seconds = style_run(seed, variant, cases)
                ratios.append(ratio)
                print(f"style {variant} seed {seed}: {ratio:.4f} ({seconds:.2f} s CPU)", flush=True)
            r = np.array(ratios)
            print(
                f"style {variant}: worst/mean/best {r.max():.4f} / {r.mean():.4f} / {r.min():.4f}; "
                f"passes {int(np.sum(r <= t_style.STYLE_FRACTION))} of {len(r)}",
                flush=True,
            )
    if args.check:
        X, y, parts = cases.digits()
        test_id = "ch14_transfer/test_few_labels.py::test_transfer_beats_scratch_with_few_labels"
        idx = oracle(0, test_id).random(
            "subsets", lambda rng: [cases.labelled_subset(rng, t_few.PER_CLASS) for _ in range(3)]
        )[0]
        pre_ref, pre = ref.load_pretrained(), pretrained()
        for strategy in sol.STRATEGIES:
            p = ref.few_label_fit(pre_ref, X[idx], y[idx], strategy, 0)
            model = sol.fit_few_labels(pre, X[idx], y[idx], strategy, np.random.default_rng(0))
            print(
                f"check {strategy}: reference accuracy "
                f"{ref.accuracy(p, X[parts['target_test']], y[parts['target_test']]):.4f}, "
                f"solution {_accuracy(model, X, y, parts):.4f}"
            )
        content, style = style_images(0, cases)
        image, _ = ref.stylize(pre_ref, content, style)
        print(
            "check style: reference end/start",
            cases.measured_style_loss(image, style) / cases.measured_style_loss(content, style),
            "solution",
            style_run(0, "correct", cases)[0],
        )


if __name__ == "__main__":
    main()
