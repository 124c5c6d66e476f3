"""Reference for chapter 14: pretrained LeNet-5 weights (how the shipped file is made),
loading them, fine-tuning with two learning rates, few-label transfer from digits 0-4 to
digits 5-9, and style transfer with Gram matrices, as plain float64 functions.

LeNet-5's parameters are the dicts of chapter 10's reference (``conv1.W``, ``fc3.b``, ...);
``to_model_arrays`` renames them to the keys of the course's model files
(``layer0.weights``, ``layer11.biases``). A few functions take a ``bug`` option that
computes a common wrong answer, so that the grader can name it when a submission returns
exactly that.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from ..ch04_backprop import numerical_gradient  # noqa: F401  (re-exported for the suite)
from ..ch05_optimizers import adam_step
from ..ch09_mnist import preprocess, split_indices
from ..ch10_convnets import (
    conv_backward,
    conv_forward,
    lenet_backward,
    lenet_forward,
    lenet_init,
    maxpool_backward,
    maxpool_forward,
)

DATA = Path(__file__).resolve().parent.parent.parent / "data"
PRETRAINED_DIR = DATA / "pretrained"
MODEL_FILE = "lenet-digits04.npz"
CHECK_FILE = "lenet-digits04-check.npz"

# The recipe of the shipped weights.
SPLIT_SEED = 9  # chapter 09's split of the 10,000 shipped images
PRETRAIN_SEED, PRETRAIN_EPOCHS, PRETRAIN_BATCH, PRETRAIN_LR = 14, 2, 64, 2e-3
N_CHECK = 8  # images in the check file

# Few-label transfer (the grader's settings; the chapter's constants must agree).
HEAD_LR, BODY_LR, FEW_STEPS = 3e-3, 3e-4, 60
CONV_KEYS = ("conv1.W", "conv1.b", "conv2.W", "conv2.b")
HEAD_KEYS = ("fc1.W", "fc1.b", "fc2.W", "fc2.b", "fc3.W", "fc3.b")

# Where each reference parameter sits in the model file (build_lenet's layer indices).
MODEL_KEYS = {
    "conv1.W": "layer0.weights",
    "conv1.b": "layer0.biases",
    "conv2.W": "layer3.weights",
    "conv2.b": "layer3.biases",
    "fc1.W": "layer7.weights",
    "fc1.b": "layer7.biases",
    "fc2.W": "layer9.weights",
    "fc2.b": "layer9.biases",
    "fc3.W": "layer11.weights",
    "fc3.b": "layer11.biases",
}


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------ the data


def digit_data():
    """(X (10000, 1, 28, 28) in [-1, 1], y (10000,) int64, parts) with parts a dict of index
    arrays: 'source' (training part, digits 0-4), 'source_test' (test part, 0-4), 'pool'
    (training part, digits 5-9: where labelled subsets are drawn), 'target_test' (test
    part, 5-9)."""
    from data.loaders import load_mnist_idx

    images, labels = load_mnist_idx()
    X = preprocess(images).reshape(-1, 1, 28, 28)
    y = labels.astype(np.int64)
    train, _, test = split_indices(len(y), np.random.default_rng(SPLIT_SEED))
    parts = {
        "source": train[y[train] < 5],
        "source_test": test[y[test] < 5],
        "pool": train[y[train] >= 5],
        "target_test": test[y[test] >= 5],
    }
    return X, y, parts


def labelled_subset(y, pool, per_class, rng, classes=(5, 6, 7, 8, 9)):
    """Indices of ``per_class`` images of each class, drawn without replacement from the
    pool, class by class (one ``rng.choice`` per class, in order)."""
    return np.concatenate(
        [rng.choice(pool[y[pool] == c], per_class, replace=False) for c in classes]
    )


# ------------------------------------------------------------------------ training


def lenet_fit(params, X, y, steps=None, lrs=None, epochs=None, batch_size=None, rng=None):
    """Train LeNet-5 parameters with Adam on the mean softmax cross-entropy. ``lrs``: {name:
    learning rate}, 0 or missing = frozen (no update, no state). Either ``steps`` full-batch
    steps, or ``epochs`` of shuffled mini-batches (one rng.permutation per epoch). Each
    learning-rate group counts its own steps (all groups step together)."""
    params = {k: _f64(v).copy() for k, v in params.items()}
    states = {k: {} for k in params}
    X, y = _f64(X), np.asarray(y)
    t = 0

    def step(idx):
        nonlocal t
        logits, cache = lenet_forward(params, X[idx])
        d = _softmax(logits)
        d[np.arange(len(idx)), y[idx]] -= 1.0
        grads = lenet_backward(params, cache, d / len(idx))
        t += 1
        for k in params:
            if lrs.get(k):
                params[k] = adam_step(params[k], grads[k], states[k], lrs[k], t)

    if epochs is None:
        for _ in range(steps):
            step(np.arange(len(X)))
    else:
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                step(order[start : start + batch_size])
    return params


def predict(params, X, batch=500):
    """(N, 10) probabilities."""
    return np.concatenate(
        [_softmax(lenet_forward(params, X[i : i + batch])[0]) for i in range(0, len(X), batch)]
    )


def accuracy(params, X, y):
    return float(np.mean(np.argmax(predict(params, X), axis=1) == np.asarray(y)))


def pretrain_lenet(seed=PRETRAIN_SEED, epochs=PRETRAIN_EPOCHS):
    """The shipped network: LeNet-5 from ``lenet_init(default_rng(seed))``, trained on the
    digits 0-4 of chapter 09's training part, ``epochs`` shuffled epochs of batches of 64,
    Adam ``PRETRAIN_LR``, the same Generator for the permutations. Returns (params, X, y,
    parts)."""
    X, y, parts = digit_data()
    rng = np.random.default_rng(seed)
    params = lenet_init(rng)
    src = parts["source"]
    params = lenet_fit(
        params,
        X[src],
        y[src],
        lrs={k: PRETRAIN_LR for k in params},
        epochs=epochs,
        batch_size=PRETRAIN_BATCH,
        rng=rng,
    )
    return params, X, y, parts


# ------------------------------------------------------------------------ the files


def to_model_arrays(params):
    """{model-file key: array} of reference parameters."""
    return {MODEL_KEYS[k]: _f64(v) for k, v in params.items()}


def from_model_arrays(arrays):
    inverse = {v: k for k, v in MODEL_KEYS.items()}
    return {inverse[k]: _f64(v) for k, v in arrays.items() if k in inverse}


def lenet_architecture():
    """The JSON document of the model file: chapter 10's build_lenet, as chapter 08 saves it."""

    def layer(name, **args):
        return {"class": name, "args": args}

    conv = dict(stride=1)
    layers = [
        layer("Conv2D", in_channels=1, out_channels=6, kernel_size=5, padding=2, **conv),
        layer("ReLU"),
        layer("MaxPool2D", kernel_size=2, stride=2),
        layer("Conv2D", in_channels=6, out_channels=16, kernel_size=5, padding=0, **conv),
        layer("ReLU"),
        layer("MaxPool2D", kernel_size=2, stride=2),
        layer("Flatten"),
    ]
    for a, b in ((400, 120), (120, 84), (84, 10)):
        layers.append(
            layer(
                "Dense",
                n_inputs=a,
                n_neurons=b,
                weight_regularizer_l1=0,
                weight_regularizer_l2=0,
                bias_regularizer_l1=0,
                bias_regularizer_l2=0,
            )
        )
        layers.append(layer("ReLU") if b != 10 else layer("Softmax"))
    return {
        "format": "nn-from-scratch-model",
        "version": 1,
        "layers": layers,
        "loss": {"class": "CategoricalCrossEntropy", "args": {}},
        "accuracy": {"class": "AccuracyCategorical", "args": {}},
        "optimizer": {
            "class": "Adam",
            "args": {
                "learning_rate": PRETRAIN_LR,
                "decay": 0.0,
                "epsilon": 1e-7,
                "beta_1": 0.9,
                "beta_2": 0.999,
            },
        },
    }


def model_file_arrays(params):
    arrays = to_model_arrays(params)
    text = json.dumps(lenet_architecture())
    arrays["architecture"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()
    return arrays


def check_arrays(params, X, parts):
    """The check file: the first N_CHECK source-test images and the network's outputs."""
    inputs = X[parts["source_test"][:N_CHECK]]
    return {"inputs": inputs, "outputs": predict(params, inputs)}


def fingerprint(arrays):
    """sha256 over the sorted names, dtypes, shapes and bytes of a file's arrays (a zip
    archive's own bytes hold timestamps; its arrays do not)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def read_npz(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_pretrained():
    """The shipped network's parameters (reference names)."""
    return from_model_arrays(read_npz(PRETRAINED_DIR / MODEL_FILE))


# ------------------------------------------------------------------ freezing, two rates


def group_steps(params, grads_sequence, lrs):
    """Adam steps on a dict of parameters where each name has its own learning rate
    (``lrs[name]``; 0 = frozen: unchanged and no state). returns: (params after the last
    step, names that hold optimizer state)."""
    current = {k: _f64(v).copy() for k, v in params.items()}
    states = {k: {} for k in current}
    for t, grads in enumerate(grads_sequence, start=1):
        for k in current:
            if lrs[k]:
                current[k] = adam_step(current[k], _f64(grads[k]), states[k], lrs[k], t)
    return current, sorted(k for k, s in states.items() if s)


# ------------------------------------------------------------------ few-label transfer


def head_init(rng):
    """A new head for 10 classes (fc1, fc2, fc3 with He scales, biases zero), drawn in that
    order: the draws of ``new_head``."""
    params = {}
    for name, (a, b) in (("fc1", (400, 120)), ("fc2", (120, 84)), ("fc3", (84, 10))):
        params[name + ".W"] = np.sqrt(2.0 / a) * rng.standard_normal((a, b))
        params[name + ".b"] = np.zeros((1, b))
    return params


def transfer_start(pretrained, strategy, rng):
    """The starting parameters and learning rates of a strategy. 'features': pretrained
    convolutions frozen, a new head at HEAD_LR; 'finetune': pretrained convolutions at
    BODY_LR, a new head at HEAD_LR; 'scratch': lenet_init(rng), everything at HEAD_LR.
    bug-like strategies: 'finetune_same_lr' (the body at HEAD_LR), 'features_old_head'
    (the pretrained head kept), 'random_frozen' (random convolutions frozen)."""
    if strategy in ("scratch", "random_frozen"):
        params = lenet_init(rng)
        lrs = {k: HEAD_LR for k in params}
        if strategy == "random_frozen":
            lrs.update({k: 0.0 for k in CONV_KEYS})
        return params, lrs
    params = {k: _f64(v).copy() for k, v in pretrained.items()}
    if strategy != "features_old_head":
        params.update(head_init(rng))
    lrs = {k: HEAD_LR for k in params}
    body_lr = {"finetune": BODY_LR, "finetune_same_lr": HEAD_LR}.get(strategy, 0.0)
    lrs.update({k: body_lr for k in CONV_KEYS})
    return params, lrs


def few_label_start(pretrained, strategy, seed):
    """The parameters a strategy starts from (head drawn from default_rng(seed))."""
    return transfer_start(pretrained, strategy, np.random.default_rng(seed))[0]


def few_label_fit(pretrained, X, y, strategy, seed, steps=FEW_STEPS):
    """Train a strategy's network on (X, y) for ``steps`` full-batch Adam steps; the head
    is drawn from default_rng(seed). returns: the trained parameters."""
    params, lrs = transfer_start(pretrained, strategy, np.random.default_rng(seed))
    return lenet_fit(params, X, y, steps=steps, lrs=lrs)


# ------------------------------------------------------------------ style transfer

STYLE_LAYERS, CONTENT_LAYER = (1, 4), 4
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 1.0, 100.0, 1e-3
STYLE_STEPS, STYLE_LR = 100, 0.05


def feature_maps(params, x, indices=(1, 4)):
    """Outputs of build_lenet's layers at ``indices`` (0 conv1, 1 ReLU, 2 pool, 3 conv2,
    4 ReLU, 5 pool) for images x (N, 1, 28, 28), with the cache for backward."""
    outs = [conv_forward(x, params["conv1.W"], params["conv1.b"], 1, 2)]
    outs.append(np.maximum(outs[0], 0))
    outs.append(maxpool_forward(outs[1], 2))
    outs.append(conv_forward(outs[2], params["conv2.W"], params["conv2.b"]))
    outs.append(np.maximum(outs[3], 0))
    outs.append(maxpool_forward(outs[4], 2))
    return [outs[i] for i in indices], (x, outs)


def body_features(params, x):
    """(N, 400): the body's output (layers 0-6: up to and including Flatten)."""
    (p5,), _ = feature_maps(params, x, (5,))
    return p5.reshape(len(p5), -1)


def feature_maps_backward(params, cache, d1, d4):
    """d(image) given the gradients at layer 1's and layer 4's outputs."""
    x, outs = cache
    d = d4 * (outs[3] > 0)
    d, _, _ = conv_backward(d, outs[2], params["conv2.W"])
    d = maxpool_backward(d, outs[1], 2) + d1
    d = d * (outs[0] > 0)
    dx, _, _ = conv_backward(d, x, params["conv1.W"], 1, 2)
    return dx


def gram(features, bug=None):
    """(N, C, C): G[n] = F F^T / (C H W) with F = features[n] as (C, H*W). bug 'none': no
    division; 'hw': divided by H W only; 'c': by C only."""
    f = _f64(features)
    N, C, H, W = f.shape
    F = f.reshape(N, C, H * W)
    G = F @ F.transpose(0, 2, 1)
    scale = {"none": 1.0, "hw": H * W, "c": C}.get(bug, C * H * W)
    return G / scale


def gram_backward(dG, features, bug=None):
    """d features (N, C, H, W) of a Gram matrix's gradient dG (N, C, C). bug 'symmetric':
    2 dG F / (C H W), right only when dG is symmetric."""
    f, dG = _f64(features), _f64(dG)
    N, C, H, W = f.shape
    F = f.reshape(N, C, H * W)
    if bug == "symmetric":
        dF = 2 * dG @ F
    else:
        dF = (dG + dG.transpose(0, 2, 1)) @ F
    return (dF / (C * H * W)).reshape(f.shape)


def content_loss(F, P, bug=None):
    """mean over all entries of (F - P)^2. bug 'sum': the sum."""
    d = _f64(F) - _f64(P)
    return float(np.sum(d * d)) if bug == "sum" else float(np.mean(d * d))


def content_loss_backward(F, P):
    d = _f64(F) - _f64(P)
    return 2.0 * d / d.size


def style_loss(G, A, bug=None):
    """mean over the batch of the sum over entries of (G - A)^2. bug 'mean': the mean over
    all entries."""
    d = _f64(G) - _f64(A)
    return float(np.mean(d * d)) if bug == "mean" else float(np.sum(d * d) / len(d))


def style_loss_backward(G, A):
    d = _f64(G) - _f64(A)
    return 2.0 * d / len(d)


def tv_loss(x, bug=None):
    """mean over the batch of the sum of squared differences between vertical and
    horizontal neighbours. bug 'abs': absolute differences; 'one_axis': rows only."""
    x = _f64(x)
    dv = x[:, :, 1:, :] - x[:, :, :-1, :]
    dh = x[:, :, :, 1:] - x[:, :, :, :-1]
    if bug == "abs":
        return float((np.abs(dv).sum() + np.abs(dh).sum()) / len(x))
    if bug == "one_axis":
        return float(np.sum(dv * dv) / len(x))
    return float((np.sum(dv * dv) + np.sum(dh * dh)) / len(x))


def tv_loss_backward(x):
    x = _f64(x)
    dv = x[:, :, 1:, :] - x[:, :, :-1, :]
    dh = x[:, :, :, 1:] - x[:, :, :, :-1]
    g = np.zeros_like(x)
    g[:, :, 1:, :] += 2 * dv
    g[:, :, :-1, :] -= 2 * dv
    g[:, :, :, 1:] += 2 * dh
    g[:, :, :, :-1] -= 2 * dh
    return g / len(x)


def style_targets(params, content, style):
    (_, P), _ = feature_maps(params, content)
    (s1, s4), _ = feature_maps(params, style)
    return P, gram(s1), gram(s4)


def total_loss(params, x, P, A1, A4, weights=(CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT), bug=None):
    """(total, content, style, tv) and the gradient with respect to the image x. bug
    'no_layer1': the style term's gradient at layer 1 left out; 'no_tv': the TV term's
    gradient left out."""
    wc, ws, wt = weights
    (f1, f4), cache = feature_maps(params, x)
    g1, g4 = gram(f1), gram(f4)
    c, s, t = content_loss(f4, P), style_loss(g1, A1) + style_loss(g4, A4), tv_loss(x)
    d1 = ws * gram_backward(style_loss_backward(g1, A1), f1) * (bug != "no_layer1")
    d4 = ws * gram_backward(style_loss_backward(g4, A4), f4) + wc * content_loss_backward(f4, P)
    dx = feature_maps_backward(params, cache, d1, d4) + wt * tv_loss_backward(x) * (bug != "no_tv")
    return (wc * c + ws * s + wt * t, c, s, t), dx


def stylize(params, content, style, steps=STYLE_STEPS, lr=STYLE_LR, weights=None):
    """Adam on the image, starting from the content image. returns (image, history) with
    history a list of (total, content, style, tv) before each step and after the last."""
    weights = weights or (CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT)
    P, A1, A4 = style_targets(params, content, style)
    x, state, history = _f64(content).copy(), {}, []
    for t in range(1, steps + 1):
        losses, dx = total_loss(params, x, P, A1, A4, weights)
        history.append(losses)
        x = adam_step(x, dx, state, lr, t)
    history.append(total_loss(params, x, P, A1, A4, weights)[0])
    return x, history


# ------------------------------------------------------------------ a tiny BERT-like encoder
#
# Sequences of SEQ_T symbols (0..N_SYMBOLS-1) from one of two random sparse Markov chains;
# MASK_ID is an extra token. Encoder parameters use the keys of chapter 12's
# build_transformer(N_TOKENS, rng, n_layers=ENC_BLOCKS) model file: "layer0.weights"
# (Embedding), "layer2.attn.Wq", ..., "layer4.gamma" (final LayerNorm), "layer5.weights"
# (the TimeDense that scores tokens).

from ..ch11_recurrent import embedding_backward  # noqa: E402
from ..ch12_attention import (  # noqa: E402
    block_backward,
    block_forward,
    layernorm_backward,
    layernorm_forward,
    sinusoidal_encoding,
)

N_SYMBOLS, SEQ_T = 24, 16
MASK_ID, N_TOKENS = N_SYMBOLS, N_SYMBOLS + 1
ENC_D, ENC_HEADS, ENC_FF, ENC_BLOCKS = 32, 2, 64, 2
CHAIN_SEED, N_NEXT = 140, 3
MLM_SEED, MLM_STEPS, MLM_BATCH, MLM_LR, MASK_RATE = 141, 1000, 64, 3e-3, 0.15
ENCODER_FILE, ENCODER_CHECK_FILE = "encoder-mlm.npz", "encoder-mlm-check.npz"
SEQ_HEAD_LR, SEQ_BODY_LR, SEQ_STEPS = 3e-3, 3e-4, 40
BLOCK_KEYS = (
    "ln1.gamma",
    "ln1.beta",
    "attn.Wq",
    "attn.Wk",
    "attn.Wv",
    "attn.Wo",
    "attn.bq",
    "attn.bk",
    "attn.bv",
    "attn.bo",
    "ln2.gamma",
    "ln2.beta",
    "ff1.weights",
    "ff1.biases",
    "ff2.weights",
    "ff2.biases",
)


def markov_chains(seed=CHAIN_SEED, n_symbols=N_SYMBOLS, n_next=N_NEXT):
    """(2, S, S) transition matrices: from each symbol, ``n_next`` distinct next symbols
    (``rng.choice``) with Dirichlet(1) probabilities, chain 0's rows then chain 1's."""
    rng = np.random.default_rng(seed)
    chains = np.zeros((2, n_symbols, n_symbols))
    for c in range(2):
        for s in range(n_symbols):
            nxt = rng.choice(n_symbols, n_next, replace=False)
            chains[c, s, nxt] = rng.dirichlet(np.ones(n_next))
    return chains


def chain_sequences(labels, rng, T=SEQ_T, chains=None):
    """(n, T) int sequences, row i from chain labels[i]: the first symbol uniform
    (``rng.integers``), then each next one by inverse CDF of one ``rng.random`` draw per
    step for the whole batch (the smallest s with cumsum(P)[s] > u)."""
    chains = markov_chains() if chains is None else chains
    labels = np.asarray(labels)
    X = np.zeros((len(labels), T), dtype=np.int64)
    X[:, 0] = rng.integers(0, chains.shape[1], size=len(labels))
    for t in range(1, T):
        u = rng.random(len(labels))
        cdf = np.cumsum(chains[labels, X[:, t - 1]], axis=1)
        X[:, t] = np.minimum(np.sum(cdf <= u[:, None], axis=1), chains.shape[1] - 1)
    return X


def mask_tokens(ids, rng, rate=MASK_RATE, mask_id=MASK_ID, n_symbols=N_SYMBOLS, bug=None):
    """(inputs, selected): draws, in this order, ``sel = rng.random(shape) < rate``,
    ``r = rng.random(shape)``, ``rnd = rng.integers(0, n_symbols, shape)``; a selected
    position becomes mask_id when r < 0.8, rnd when r >= 0.9, and keeps its id otherwise.
    bug 'all_mask': every selected position becomes mask_id."""
    ids = np.asarray(ids)
    selected = rng.random(ids.shape) < rate
    r = rng.random(ids.shape)
    rnd = rng.integers(0, n_symbols, ids.shape)
    if bug == "all_mask":
        return np.where(selected, mask_id, ids), selected
    out = np.where(selected & (r < 0.8), mask_id, ids)
    out = np.where(selected & (r >= 0.9), rnd, out)
    return out, selected


def encoder_init(rng):
    p = {"layer0.weights": rng.standard_normal((N_TOKENS, ENC_D))}
    for i in range(2, 2 + ENC_BLOCKS):
        for k in BLOCK_KEYS:
            if k.startswith(("ln1.gamma", "ln2.gamma")):
                p[f"layer{i}.{k}"] = np.ones((1, ENC_D))
            elif k.startswith("attn.W"):
                p[f"layer{i}.{k}"] = rng.standard_normal((ENC_D, ENC_D)) / np.sqrt(ENC_D)
            elif k == "ff1.weights":
                p[f"layer{i}.{k}"] = rng.standard_normal((ENC_D, ENC_FF)) * np.sqrt(2.0 / ENC_D)
            elif k == "ff2.weights":
                p[f"layer{i}.{k}"] = rng.standard_normal((ENC_FF, ENC_D)) * np.sqrt(2.0 / ENC_FF)
            else:
                width = ENC_FF if k == "ff1.biases" else ENC_D
                p[f"layer{i}.{k}"] = np.zeros((1, width))
    last = 2 + ENC_BLOCKS
    p[f"layer{last}.gamma"], p[f"layer{last}.beta"] = np.ones((1, ENC_D)), np.zeros((1, ENC_D))
    p[f"layer{last + 1}.weights"] = rng.standard_normal((ENC_D, N_TOKENS)) / np.sqrt(ENC_D)
    p[f"layer{last + 1}.biases"] = np.zeros((1, N_TOKENS))
    return p


def encoder_body(p, ids):
    """(N, T, D) after the final layer norm, and the caches."""
    ids = np.asarray(ids)
    h = p["layer0.weights"][ids] + sinusoidal_encoding(ids.shape[1], ENC_D)
    caches = []
    for i in range(2, 2 + ENC_BLOCKS):
        h, c = block_forward(h, {k: p[f"layer{i}.{k}"] for k in BLOCK_KEYS}, ENC_HEADS)
        caches.append(c)
    last = 2 + ENC_BLOCKS
    h, cl = layernorm_forward(h, p[f"layer{last}.gamma"], p[f"layer{last}.beta"])
    return h, (ids, caches, cl)


def encoder_body_backward(p, cache, dh):
    ids, caches, cl = cache
    last = 2 + ENC_BLOCKS
    g = {}
    d, g[f"layer{last}.gamma"], g[f"layer{last}.beta"] = layernorm_backward(dh, cl)
    for i, c in reversed(list(zip(range(2, 2 + ENC_BLOCKS), caches))):
        d, gb = block_backward(d, c)
        g.update({f"layer{i}.{k}": v for k, v in gb.items()})
    g["layer0.weights"] = embedding_backward(d, ids, N_TOKENS)
    return g


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def mlm_step(p, ids, rng):
    """Loss and gradients of one masked-token batch: the mean cross-entropy over the
    selected positions (at least one per batch)."""
    inputs, selected = mask_tokens(ids, rng)
    h, cache = encoder_body(p, inputs)
    last = 2 + ENC_BLOCKS
    logits = h @ p[f"layer{last + 1}.weights"] + p[f"layer{last + 1}.biases"]
    logp = _log_softmax(logits)
    n = max(1, int(selected.sum()))
    loss = -float(np.sum(np.take_along_axis(logp, ids[..., None], -1)[..., 0] * selected)) / n
    d = np.exp(logp)
    d[np.arange(ids.shape[0])[:, None], np.arange(ids.shape[1])[None, :], ids] -= 1.0
    d *= selected[..., None] / n
    g = {
        f"layer{last + 1}.weights": h.reshape(-1, ENC_D).T @ d.reshape(-1, N_TOKENS),
        f"layer{last + 1}.biases": d.reshape(-1, N_TOKENS).sum(0, keepdims=True),
    }
    g.update(encoder_body_backward(p, cache, d @ p[f"layer{last + 1}.weights"].T))
    return loss, g, (logits, inputs, selected)


def pretrain_encoder(seed=MLM_SEED, steps=MLM_STEPS):
    """The shipped encoder: encoder_init(default_rng(seed)); each step draws 64 labels,
    their sequences and the masking from the same Generator; Adam MLM_LR."""
    rng = np.random.default_rng(seed)
    p = encoder_init(rng)
    chains, states, history = markov_chains(), {k: {} for k in p}, []
    for t in range(1, steps + 1):
        ids = chain_sequences(rng.integers(0, 2, MLM_BATCH), rng, chains=chains)
        loss, g, _ = mlm_step(p, ids, rng)
        history.append(loss)
        for k in p:
            p[k] = adam_step(p[k], g[k], states[k], MLM_LR, t)
    return p, history


def masked_accuracy(p, n=1000, seed=7):
    rng = np.random.default_rng(seed)
    ids = chain_sequences(rng.integers(0, 2, n), rng)
    _, _, (logits, _, selected) = mlm_step(p, ids, rng)
    return float(np.mean(np.argmax(logits, -1)[selected] == ids[selected]))


def encoder_architecture():
    """The JSON document of the encoder's model file: chapter 12's build_transformer(
    N_TOKENS, rng, n_layers=ENC_BLOCKS), as chapter 08 saves it. The masked-token loss is not
    a class the course's files name: the file records a categorical cross-entropy and
    accuracy as placeholders, and no optimizer."""

    def layer(name, **args):
        return {"class": name, "args": args}

    blocks = [
        layer("EncoderBlock", d_model=ENC_D, n_heads=ENC_HEADS, d_ff=ENC_FF, causal=0.0)
        for _ in range(ENC_BLOCKS)
    ]
    return {
        "format": "nn-from-scratch-model",
        "version": 1,
        "layers": [
            layer("Embedding", n_tokens=N_TOKENS, n_dims=ENC_D),
            layer("PositionalEncoding", d_model=ENC_D),
            *blocks,
            layer("LayerNorm", n_features=ENC_D, epsilon=1e-5),
            layer("TimeDense", n_inputs=ENC_D, n_outputs=N_TOKENS),
            layer("TokenLogits"),
        ],
        "loss": {"class": "CategoricalCrossEntropy", "args": {}},
        "accuracy": {"class": "AccuracyCategorical", "args": {}},
        "optimizer": None,
    }


def encoder_logits(p, ids):
    last = 2 + ENC_BLOCKS
    h, _ = encoder_body(p, ids)
    return h @ p[f"layer{last + 1}.weights"] + p[f"layer{last + 1}.biases"]


def encoder_file_arrays(p):
    arrays = {k: _f64(v) for k, v in p.items()}
    text = json.dumps(encoder_architecture())
    arrays["architecture"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()
    return arrays


def encoder_check_arrays(p, n=4, seed=3):
    """Four masked sequences (one of each chain, twice) and the encoder's logits."""
    rng = np.random.default_rng(seed)
    ids = chain_sequences(np.arange(n) % 2, rng)
    inputs, _ = mask_tokens(ids, rng)
    return {"inputs": inputs, "outputs": encoder_logits(p, inputs)}


def load_encoder():
    return {k: v for k, v in read_npz(PRETRAINED_DIR / ENCODER_FILE).items() if k != "architecture"}


# ------------------------------------------------------------------ fine-tuning the encoder


def seq_head_init(rng):
    """The classifier head's Dense(ENC_D, 2) with He scale (the one draw of the head)."""
    return {
        "head.W": np.sqrt(2.0 / ENC_D) * rng.standard_normal((ENC_D, 2)),
        "head.b": np.zeros((1, 2)),
    }


def mean_pool(h):
    return _f64(h).mean(axis=1)


def mean_pool_backward(d, T):
    return np.repeat(_f64(d)[:, None, :] / T, T, axis=1)


def seq_fit(encoder, X, y, seed, steps=SEQ_STEPS, strategy="finetune"):
    """Fine-tune the pretrained encoder's body (layers 0-4) with a new head (mean pool,
    Dense(ENC_D, 2) drawn from default_rng(seed), softmax) for ``steps`` full-batch Adam
    steps: the body at SEQ_BODY_LR, the head at SEQ_HEAD_LR ('finetune'), or both at
    SEQ_HEAD_LR ('same_lr'). returns: the parameters (model-file keys; the head's Dense
    is layer6)."""
    last = 2 + ENC_BLOCKS
    p = {k: _f64(v).copy() for k, v in encoder.items() if not k.startswith(f"layer{last + 1}.")}
    head = seq_head_init(np.random.default_rng(seed))
    p["layer6.weights"], p["layer6.biases"] = head["head.W"], head["head.b"]
    body_lr = SEQ_HEAD_LR if strategy == "same_lr" else SEQ_BODY_LR
    lrs = {k: (SEQ_HEAD_LR if k.startswith("layer6.") else body_lr) for k in p}
    states = {k: {} for k in p}
    X, y = np.asarray(X), np.asarray(y)
    for t in range(1, steps + 1):
        h, cache = encoder_body(p, X)
        pooled = mean_pool(h)
        logits = pooled @ p["layer6.weights"] + p["layer6.biases"]
        d = _softmax(logits)
        d[np.arange(len(y)), y] -= 1.0
        d /= len(y)
        g = {"layer6.weights": pooled.T @ d, "layer6.biases": d.sum(0, keepdims=True)}
        g.update(
            encoder_body_backward(
                p, cache, mean_pool_backward(d @ p["layer6.weights"].T, X.shape[1])
            )
        )
        for k in p:
            p[k] = adam_step(p[k], g[k], states[k], lrs[k], t)
    return p
