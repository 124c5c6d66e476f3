"""Chapter 14, hidden tests (instructor mode only): other shapes for the Gram matrix and
the total variation, three parameter groups with SGD, and copy_parameters on layers with
buffers."""

from grader.api import Rng, check_array, check_scalar, np, points
from grader.suites.ch14_transfer.cases import ref


@points(2)
def test_hidden_gram_and_tv_non_square(student, oracle):
    """Gram matrices of (3, 5, 2, 7) maps and the total variation of (3, 2, 6, 3) images."""
    f, x = oracle.random(
        "x", lambda rng: (rng.standard_normal((3, 5, 2, 7)), rng.standard_normal((3, 2, 6, 3)))
    )
    g, tv, dtv = oracle.compute(
        "want", lambda: (ref.gram(f), ref.tv_loss(x), ref.tv_loss_backward(x))
    )
    check_array(student.gram(f), g, call="gram(features (3, 5, 2, 7))", inputs={"features": f})
    check_scalar(student.tv_loss(x), tv, call="tv_loss(images (3, 2, 6, 3))")
    check_array(student.tv_loss_backward(x), dtv, call="tv_loss_backward(images (3, 2, 6, 3))")


@points(2)
def test_hidden_param_groups_three_sgd_groups(student, oracle):
    """Three Dense layers, three groups of SGD with learning rates 0.1, 0.01 and 0.001, two
    steps; the middle group frozen."""
    ws, gs = oracle.random(
        "x",
        lambda rng: (
            [rng.standard_normal((2, 3)) for _ in range(3)],
            [rng.standard_normal((2, 3)) for _ in range(3)],
        ),
    )
    layers = [student.Dense(2, 3, Rng(0)) for _ in range(3)]
    for layer, w, g in zip(layers, ws, gs):
        layer.weights, layer.dweights = w, g
        layer.dbiases = np.zeros((1, 3))
    student.set_trainable([layers[1]], False)
    rates = (0.1, 0.01, 0.001)
    groups = student.ParamGroups(
        [([layer], student.SGD(learning_rate=lr)) for layer, lr in zip(layers, rates)]
    )
    for _ in range(2):
        groups.pre_update_params()
        for layer in layers:
            groups.update_params(layer)
        groups.post_update_params()
    for i, (w, g, lr) in enumerate(zip(ws, gs, rates)):
        want = w if i == 1 else w - 2 * lr * g
        check_array(
            layers[i].weights,
            want,
            call="ParamGroups of three SGD groups (the middle one frozen), 2 steps",
            what=f"layer {i}'s weights",
        )


@points(2)
def test_hidden_copy_parameters_with_buffers(student, oracle):
    """Dense, BatchNorm, ReLU, Dense: the BatchNorm's running statistics are copied too
    (layer_arrays: parameters() then buffers())."""
    arrays = oracle.random(
        "arrays",
        lambda rng: {
            "layer0.weights": rng.standard_normal((3, 4)),
            "layer0.biases": rng.standard_normal((1, 4)),
            "layer1.gamma": rng.standard_normal((1, 4)),
            "layer1.beta": rng.standard_normal((1, 4)),
            "layer1.running_mean": rng.standard_normal((1, 4)),
            "layer1.running_var": rng.random((1, 4)) + 0.5,
            "layer3.weights": rng.standard_normal((4, 2)),
            "layer3.biases": rng.standard_normal((1, 2)),
        },
    )
    layers = [
        student.Dense(3, 4, Rng(0)),
        student.BatchNorm(4),
        student.ReLU(),
        student.Dense(4, 2, Rng(1)),
    ]
    student.copy_parameters(layers, arrays)
    for key, value in arrays.items():
        i, name = key[len("layer") :].split(".")
        check_array(
            getattr(layers[int(i)], name),
            value,
            call="copy_parameters([Dense, BatchNorm, ReLU, Dense], arrays)",
            what=key,
        )


@points(2)
def test_hidden_mask_tokens_other_rate_and_vocabulary(student, oracle):
    """mask_tokens on (7, 9) ids of 30 symbols with rate 0.5 and mask id 30."""
    ids = oracle.random("ids", lambda rng: rng.integers(0, 30, size=(7, 9)))
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    inputs, selected = oracle.compute(
        "want",
        lambda: ref.mask_tokens(
            ids, np.random.default_rng(seed), rate=0.5, mask_id=30, n_symbols=30
        ),
    )
    call = f"mask_tokens(ids (7, 9), default_rng({seed}), rate=0.5, mask_id=30, n_symbols=30)"
    got = student.mask_tokens(ids, Rng(seed), rate=0.5, mask_id=30, n_symbols=30)
    check_array(
        np.asarray(got[1]).astype(np.int64),
        np.asarray(selected).astype(np.int64),
        call=call,
        what="selected",
    )
    check_array(got[0], inputs, call=call, what="inputs")
