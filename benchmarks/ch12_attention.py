"""Chapter 12 measurements: the two training bars over seeds, the broken variants that
must stay below them, and the speed of one training step next to PyTorch's.

    python benchmarks/ch12_attention.py [--seeds 10] [--tasks reversal sorter] [--skip-bars] [--skip-speed]

1. The bars. ``test_reversal_reaches_bar`` and ``test_causal_sorter_greedy_decoding_reaches_bar``
   train the course's solution code (``train_reversal``, ``train_sorter``: the chapter's
   constants, one epoch of the course's ``Model``) with training seeds 0..N-1 and score it on held-out data
   (1,000 sequences): the share of sequences reversed exactly, and the share of prompts
   whose sorted answer greedy decoding writes exactly. The broken variants, same
   settings: reversal without a positional encoding, and the decoder trained without
   the causal mask.
2. Speed. One training step (``Model.train`` on one batch: embedding, positional encoding,
   one pre-LN block, layer norm, output layer, cross-entropy, Adam) of the graded reversal model
   (d_model 32, 2 heads, batches of 64 sequences of 8 tokens) and of a wider one (d_model
   128, 4 heads, 32 tokens): the course's solution and, when it is installed, PyTorch CPU
   on the same shapes (torch.nn.TransformerEncoderLayer with norm_first=True, float64, one
   thread), best of 3 rounds; and the reference's encoder block (plain functions) forward
   and backward next to the same torch layer's.

BLAS and PyTorch are held to one thread, so the figures do not depend on the number of cores.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import reference.ch12_attention as ref  # noqa: E402
import solutions.ch12_attention as course  # noqa: E402

TEST_SEED, N_TEST = 2024, 1000


def reversal_score(model):
    X, Y = course.reversal_data(
        N_TEST, course.REVERSAL_T, course.REVERSAL_V, np.random.default_rng(TEST_SEED)
    )
    pred = np.asarray(model.predict(X)).argmax(-1)
    return float(np.mean(np.all(pred == Y, axis=1))), float(np.mean(pred == Y))


def sorter_score(model):
    X, Y = course.sort_data(
        N_TEST, course.SORT_LEN, course.SORT_V, np.random.default_rng(TEST_SEED)
    )
    out = course.greedy_decode(model, X[:, : course.SORT_LEN], course.SORT_LEN)
    return float(np.mean(np.all(out == Y, axis=1))), float(np.mean(out == Y))


def _summary(name, results, seconds):
    seqs = [r[0] for r in results]
    toks = [r[1] for r in results]
    print(
        f"{name:44s} sequences worst {min(seqs):.3f} mean {statistics.mean(seqs):.3f} best {max(seqs):.3f}"
        f" | tokens worst {min(toks):.3f} mean {statistics.mean(toks):.3f}"
        f" | {statistics.mean(seconds):.2f} s per run",
        flush=True,
    )


def bars(seeds, tasks=("reversal", "sorter")):
    runs = [
        (
            "reversal (reference settings)",
            lambda s: course.train_reversal(np.random.default_rng(s)),
            reversal_score,
        ),
        (
            "reversal without positional encoding",
            lambda s: course.train_reversal(np.random.default_rng(s), positional=False),
            reversal_score,
        ),
        (
            "causal sorter, greedy decoding",
            lambda s: course.train_sorter(np.random.default_rng(s)),
            sorter_score,
        ),
        (
            "sorter trained without the causal mask",
            lambda s: course.train_sorter(np.random.default_rng(s), causal=False),
            sorter_score,
        ),
    ]
    for name, train, score in runs:
        if ("reversal" if score is reversal_score else "sorter") not in tasks:
            continue
        results, seconds = [], []
        for seed in range(seeds):
            t = time.perf_counter()
            model, _ = train(seed)
            seconds.append(time.perf_counter() - t)
            results.append(score(model))
            print(
                f"  {name}, seed {seed}: sequences {results[-1][0]:.3f}, tokens {results[-1][1]:.3f}",
                flush=True,
            )
        _summary(name, results, seconds)


SPEED_SHAPES = [  # (d_model, n_heads, d_ff, T, batch): the graded reversal model, then a wider one
    (32, 2, 64, 8, 64),
    (128, 4, 512, 32, 64),
]


def _best(step, repeats, rounds=3):
    step()
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(repeats):
            step()
        best = min(best, (time.perf_counter() - t) / repeats)
    return best


def speed(repeats=10):
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: no side-by-side figure")
    V = course.REVERSAL_V
    for d, h, f, T, batch in SPEED_SHAPES:
        rng = np.random.default_rng(0)
        model = course.build_transformer(V, rng, d_model=d, n_heads=h, d_ff=f)
        model.set(
            loss=course.TokenCrossEntropy(),
            optimizer=course.Adam(learning_rate=course.REVERSAL_LEARNING_RATE),
            accuracy=course.TokenAccuracy(),
        )
        X, Y = course.reversal_data(batch, T, V, rng)
        ours = _best(lambda: model.train(X, Y, epochs=1, batch_size=batch, progress=False), repeats)
        block = next(layer for layer in model.layers if hasattr(layer, "attn"))
        params = {k: v.copy() for k, v in block.parameters().items()}
        xb = rng.standard_normal((batch, T, d))

        def ref_step():
            out, cache = ref.block_forward(xb, params, h)
            ref.block_backward(np.ones_like(out), cache)

        ref_block = _best(ref_step, repeats)
        line = (
            f"d_model {d}, {h} heads, d_ff {f}, T {T}, batch {batch}: numpy (course solution) training step "
            f"{1000 * ours:.2f} ms; reference block forward + backward {1000 * ref_block:.2f} ms"
        )
        if torch is not None:
            torch.set_num_threads(1)
            torch.manual_seed(0)
            emb = torch.nn.Embedding(V, d).double()
            block = torch.nn.TransformerEncoderLayer(
                d, h, f, dropout=0.0, batch_first=True, norm_first=True
            ).double()
            norm, head = torch.nn.LayerNorm(d).double(), torch.nn.Linear(d, V).double()
            params = [
                *emb.parameters(),
                *block.parameters(),
                *norm.parameters(),
                *head.parameters(),
            ]
            opt_t = torch.optim.Adam(params, lr=course.REVERSAL_LEARNING_RATE)
            pe = torch.tensor(course.sinusoidal_encoding(T, d))
            xt, yt = torch.tensor(X), torch.tensor(Y.reshape(-1))

            def step():
                opt_t.zero_grad()
                logits = head(norm(block(emb(xt) + pe))).reshape(-1, V)
                torch.nn.functional.cross_entropy(logits, yt).backward()
                opt_t.step()

            theirs = _best(step, repeats)
            tx = torch.tensor(xb, requires_grad=True)

            def torch_block_step():
                tx.grad = None
                block_t(tx).sum().backward()

            block_t = torch.nn.TransformerEncoderLayer(
                d, h, f, dropout=0.0, batch_first=True, norm_first=True
            ).double()
            theirs_block = _best(torch_block_step, repeats)
            line += (
                f"; PyTorch CPU float64 training step {1000 * theirs:.2f} ms (ratio {ours / theirs:.2f}), "
                f"block forward + backward {1000 * theirs_block:.2f} ms (reference / torch "
                f"{ref_block / theirs_block:.2f})"
            )
        print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--skip-bars", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--tasks", nargs="+", default=["reversal", "sorter"], choices=["reversal", "sorter"]
    )
    args = parser.parse_args(argv)
    if not args.skip_bars:
        bars(args.seeds, args.tasks)
    if not args.skip_speed:
        speed()


if __name__ == "__main__":
    main()
