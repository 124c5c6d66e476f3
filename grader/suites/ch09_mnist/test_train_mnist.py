"""Chapter 09: the chapter's network, and a real training run judged on held-out images.

The accuracy test trains your ``train_mnist`` in the worker on the chapter's split of the
10,000 shipped MNIST images (``split_indices(10000, default_rng(9))``): the 8,000 training
images and the 1,000 validation images with their labels, scaled by the grader as
``preprocess`` defines it. Only the 1,000 test *images* go to the worker; your model's
outputs come back and the grader scores them against the test labels, which your code
never sees. In hidden mode the test images carry a little pixel noise drawn from the
student's seed, so they match no shipped file: a table of the shipped labels is no use.
"""

from functools import lru_cache

from data.loaders import load_mnist_idx
from grader.api import (
    Rng,
    StudentError,
    check_array,
    check_true,
    fail,
    np,
    points,
    pytest,
    reference,
)

ref = reference("ch09_mnist")

SPLIT_SEED = 9  # the chapter's split: prepare.SPLIT_SEED
TRAIN_SEED = 0  # the Generator of train_mnist: the weights, then one permutation per epoch
EPOCHS, BATCH_SIZE, LEARNING_RATE = 10, 64, 1e-3
LAYERS = (
    ("Dense", (784, 128)),
    ("ReLU", None),
    ("Dense", (128, 64)),
    ("ReLU", None),
    ("Dense", (64, 10)),
    ("Softmax", None),
)

# The bar, measured while writing this suite with reference.ch09_mnist.mnist_fit_predict
# (784-128-64-10, He initialisation, Adam(1e-3), 10 epochs of batches of 64, one BLAS
# thread). The course's solution reproduces the reference to the last digit (checked for
# training seeds 0-9), so seeds 10-29 were run with the faster solution:
#
#   graded run, split seed 9, training seed 0:  test accuracy 0.955 (validation 0.929)
#   split seed 9, training seeds 0-9:           worst 0.935, mean 0.946, best 0.959
#   split seed 9, training seeds 0-29:          worst 0.935, mean 0.946, best 0.959
#   split seed 1, training seeds 0-9 (a check): worst 0.914, mean 0.930, best 0.946
#
# The bar sits 1.5 points below the worst of the thirty (about four standard deviations of
# 0.006 below the mean). Runs that must fail, on the graded split with seed 0: the untrained
# network 0.089; labels misaligned with their images 0.098; one epoch instead of ten 0.886;
# trained on the 1,000 validation images instead of the 8,000 training images 0.892; the
# network without its ReLUs (a linear softmax model) 0.896. The run takes about 4 s of one
# core on the machine where this was measured.
#
# Hidden mode scores the same model on the test images with Gaussian pixel noise of 8 gray
# levels (noisy_test_images, a fresh noise seed per student). Measured with the reference,
# split seed 9, training seeds 0-9, five noise seeds each: worst 0.933, mean 0.946, best 0.959
# (the noise moves a run's accuracy by at most 0.006), so the same bar holds in both modes.
BAR = 0.92
MEASURED = "0.955 with training seed 0 (0.935-0.959, mean 0.946, over training seeds 0-29)"


NOISE_GRAY_LEVELS = 8.0  # hidden mode: the standard deviation of the test images' noise


def noisy_test_images(images, seed):
    """``images`` (N, 28, 28) uint8 plus Gaussian noise of NOISE_GRAY_LEVELS gray levels,
    clipped to [0, 255], scaled like the training inputs: (N, 784) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    noisy = np.clip(
        images.astype(np.float64) + rng.normal(0.0, NOISE_GRAY_LEVELS, size=images.shape), 0, 255
    )
    return (noisy.reshape(len(images), -1) - 127.5) / 127.5


@lru_cache(maxsize=1)
def _raw_mnist():
    return load_mnist_idx()


@lru_cache(maxsize=1)
def _mnist():
    """The 10,000 shipped images as the chapter's inputs (N, 784) in [-1, 1], and labels."""
    images, labels = _raw_mnist()
    X = (images.reshape(len(images), -1).astype(np.float64) - 127.5) / 127.5
    return X, labels.astype(np.int64)


def _class_name(remote):
    return str(getattr(remote, "type_name", type(remote).__name__)).rsplit(".", 1)[-1]


def _model(got, call):
    """The Model a function returned, or a failure saying what came back instead."""
    if got is None:
        fail(f"{call} returned None instead of the model", "Did you forget `return model`?")
    if not hasattr(got, "type_name"):
        fail(
            f"{call} returned a {type(got).__name__} instead of the model",
            "Return the Model object itself (the history is kept as model.history).",
        )
    return got


# ------------------------------------------------------------------------- the network


@points(3)
def test_build_mnist_model_architecture(student):
    call = "build_mnist_model(rng)"
    model = _model(student.build_mnist_model(Rng(0)), call)
    layers = model.layers
    names = [_class_name(layer) for layer in layers]
    want = [name for name, _ in LAYERS]
    check_true(
        names == want,
        f"{call}: the layers are {names}, expected {want}",
        "Dense(784, 128), ReLU, Dense(128, 64), ReLU, Dense(64, 10), Softmax, added in this order.",
    )
    for layer, (name, shape) in zip(layers, LAYERS):
        if shape is not None:
            W = np.asarray(layer.weights)
            check_true(
                W.shape == shape,
                f"{call}: a Dense layer has weights of shape {W.shape}, expected {shape}",
            )
    loss, optimizer = _class_name(model.loss), _class_name(model.optimizer)
    check_true(
        loss == "CategoricalCrossEntropy",
        f"{call}: the loss is {loss}, expected CategoricalCrossEntropy",
    )
    check_true(optimizer == "Adam", f"{call}: the optimizer is {optimizer}, expected Adam")
    lr = float(model.optimizer.learning_rate)
    check_true(
        abs(lr - LEARNING_RATE) < 1e-12,
        f"{call}: Adam's learning rate is {lr:g}, expected {LEARNING_RATE:g}",
    )
    X = np.random.default_rng(1).uniform(-1, 1, size=(5, 784))
    probs = check_array(
        model.predict(X),
        np.full((5, 10), 0.1),
        call=f"{call}.predict(X)",
        atol=np.inf,
        what="outputs",
    )
    check_true(
        np.all(probs >= 0) and np.allclose(np.sum(probs, axis=1), 1.0),
        f"{call}.predict(X): the outputs are not probabilities (each row must sum to 1)",
        "The last layer is a Softmax.",
    )


@points(2)
def test_build_mnist_model_he_initialisation(student, oracle):
    """The three weight matrices are sqrt(2 / n_in) * standard normal draws, in layer order
    from the rng; the biases start at 0. (Compared on their top-left corners.)"""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    corners = oracle.compute(
        "want",
        lambda: [
            W[:4, :6] for W, _ in ref.he_params(ref.MNIST_LAYERS, np.random.default_rng(seed))
        ],
    )
    call = f"build_mnist_model(rng=default_rng({seed}))"
    model = _model(student.build_mnist_model(Rng(seed)), call)
    dense = []
    for layer in model.layers:
        if _class_name(layer) == "Dense":  # kind: the architecture
            dense.append(layer)
    check_true(len(dense) == 3, f"{call}: expected 3 Dense layers, found {len(dense)}")
    for k, (layer, want, n_in) in enumerate(zip(dense, corners, (784, 128, 64))):
        W = np.asarray(layer.weights, dtype=np.float64)
        what = f"Dense layer {k + 1}'s weights[:4, :6]"
        scale = np.sqrt(2.0 / n_in)
        check_array(
            W[:4, :6],
            want,
            call=call,
            what=what,
            rtol=1e-9,
            known_bugs=[
                (
                    "the weights use the default weight_scale 0.01: He initialisation is weight_scale=sqrt(2 / n_in)",
                    want / scale * 0.01,
                ),
                (
                    "the scale uses the layer's outputs: He initialisation is sqrt(2 / n_in), n_in its inputs",
                    want / scale * np.sqrt(2.0 / W.shape[1]),
                ),
                (
                    "the scale is sqrt(1 / n_in); He initialisation for ReLU is sqrt(2 / n_in)",
                    want / np.sqrt(2.0),
                ),
            ],
        )
        b = np.asarray(layer.biases)
        check_true(
            b.shape == (1, W.shape[1]) and np.all(b == 0),
            f"{call}: Dense layer {k + 1}'s biases must start at 0",
        )


# -------------------------------------------------------------------- the training run


def _history_text(model):
    try:
        history = model.history
        return (
            f"history: training loss {float(history['loss'][-1]):.4g}, training accuracy "
            f"{float(history['accuracy'][-1]):.4g}, validation accuracy {float(history['val_accuracy'][-1]):.4g} "
            f"after {len(history['loss'])} epochs"
        )
    except Exception:  # a model without (the right) history: nothing more to say
        return "(no model.history to show)"


@points(2)
@pytest.mark.parametrize(
    "epochs,batch_size", [(2, 32), (3, 50)], ids=["2-epochs-of-32", "3-epochs-of-50"]
)
def test_train_mnist_honours_epochs_batch_size_and_validation(student, oracle, epochs, batch_size):
    """The docstring: train_mnist(..., rng, epochs, batch_size) builds the model from rng,
    trains it for ``epochs`` epochs of batches of ``batch_size`` with the validation data
    measured after every epoch, and keeps the history as ``model.history``. On 100
    training images: the validation history and the trained model's outputs must be the
    reference run's."""
    X, y = _mnist()
    Xt, yt, Xv, yv, Xs = X[:100], y[:100], X[100:130], y[100:130], X[130:140]
    seed = 3
    logits, history = oracle.compute(
        "want",
        lambda: ref.mnist_fit_predict(
            Xt, yt, Xv, yv, Xs, seed, epochs=epochs, batch_size=batch_size
        ),
    )
    call = (
        f"train_mnist(X_train (100, 784), y_train, X_val (30, 784), y_val, rng=default_rng({seed}), "
        f"epochs={epochs}, batch_size={batch_size})"
    )
    model = _model(
        student.train_mnist(Xt, yt, Xv, yv, Rng(seed), epochs=epochs, batch_size=batch_size),
        call,
    )
    try:
        got = model.history
    except StudentError:
        fail(f"{call}: the model has no history", "Keep what model.train returns as model.history.")
    if not isinstance(got, dict) or "val_loss" not in got:
        fail(
            f"{call}: model.history is not the dict model.train returns (no 'val_loss')",
            "Keep what model.train returns as model.history.",
        )
    val = np.asarray(got["val_loss"], dtype=np.float64)
    if val.shape != (epochs,):
        fail(
            f"{call}: model.history['val_loss'] has {val.size} entries, expected one per epoch "
            f"({epochs}): pass epochs and validation_data=(X_val, y_val) to model.train",
        )
    check_array(
        val,
        np.asarray(history["val_loss"]),
        call=call,
        what="model.history['val_loss'] (the validation loss after each epoch)",
        rtol=1e-6,
    )
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    check_array(
        model.predict(Xs),
        e / e.sum(axis=1, keepdims=True),
        call=call + " then model.predict(X (10, 784))",
        what="outputs of the trained model (check epochs, batch_size and the Generator's use)",
        rtol=1e-6,
    )


@points(12)
@pytest.mark.call_timeout(60)
def test_mnist_test_accuracy_reaches_bar(student, oracle):
    """train_mnist(X_train, y_train, X_val, y_val, rng) with default_rng(0), then predict on
    the 1,000 held-out test images; the grader scores the argmax of your outputs."""
    X, y = _mnist()
    train, val, test = (
        np.asarray(p, dtype=np.int64)
        for p in oracle.compute(
            "split",
            lambda: tuple(
                np.asarray(p, dtype=np.int32)  # int32: a smaller fixture
                for p in ref.split_indices(10000, np.random.default_rng(SPLIT_SEED))
            ),
        )
    )
    call = (
        f"train_mnist(X_train (8000, 784), y_train, X_val (1000, 784), y_val, rng=default_rng({TRAIN_SEED})) "
        "then model.predict(X_test (1000, 784))"
    )
    X_test = X[test]
    if oracle.mode == "hidden":
        # Hidden mode: fresh noise per student (the seed comes from the student's seed).
        noise_seed = int(oracle.random("noise-seed", lambda rng: rng.integers(0, 2**31)))
        X_test = noisy_test_images(_raw_mnist()[0][test], noise_seed)
    model = _model(
        student.train_mnist(X[train], y[train], X[val], y[val], Rng(TRAIN_SEED)), "train_mnist(...)"
    )
    outputs = check_array(
        model.predict(X_test),
        np.zeros((len(test), 10)),
        call=call,
        what="test outputs",
        atol=np.inf,
        nonfinite_hint="training diverged (a learning rate or a gradient far too large?)",
    )
    score = float(np.mean(np.argmax(np.asarray(outputs), axis=1) == y[test]))
    if score >= BAR:
        return
    summary = f"MNIST: test accuracy {score:.3f}, below the bar {BAR}"
    details = [call, _history_text(model), f"The reference implementation reaches {MEASURED}."]
    if score < 0.2:
        summary += " (chance is 0.1: the network learned nothing)"
        details.append(
            "Check that X and y are indexed with the same indices in every batch, that the model is "
            "trained (model.train) before it is returned, and that it is the trained model you return."
        )
    fail(summary, "\n".join(details))
