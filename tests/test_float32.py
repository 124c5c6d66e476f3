"""The course's layers compute in the dtype of their inputs and parameters (README, "Against
PyTorch"; `benchmarks/ch09_mlp.py` and `benchmarks/ch10_lenet.py speed` time it): a network
whose parameters and data are cast to float32 trains in float32 end to end, with nothing
turned back into float64 on the way (outputs, gradients, optimizer state, updates).
"""

import numpy as np

from solutions.ch09_mnist import (
    AccuracyCategorical,
    Adam,
    CategoricalCrossEntropy,
    Dense,
    Model,
    ReLU,
    Softmax,
)
from solutions.ch10_convnets import build_lenet


def _to_float32(model):
    for layer in model.trainable_layers:
        for name, value in layer.parameters().items():
            setattr(layer, name, value.astype(np.float32))
    return model


def _assert_float32(model):
    for i, layer in enumerate(model.layers):
        arrays = {"output": layer.output}
        if i == 0:  # Model.finalize switched the first layer's input gradient off
            assert layer.input_gradient is False and layer.dinputs is None, type(layer).__name__
        else:
            arrays["dinputs"] = layer.dinputs
        arrays.update({f"parameters()[{k!r}]": v for k, v in layer.parameters().items()})
        arrays.update({f"gradients()[{k!r}]": v for k, v in layer.gradients().items()})
        for what, array in arrays.items():
            assert array.dtype == np.float32, (
                f"layer {i} ({type(layer).__name__}): {what} is {array.dtype}"
            )
    for (layer, name), state in model.optimizer.state.items():
        for key, array in state.items():
            assert array.dtype == np.float32, (
                f"{type(layer).__name__} {name}: state {key} is {array.dtype}"
            )


def test_mlp_trains_in_float32():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 20)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    model = Model()
    model.add(Dense(20, 16, rng, weight_scale=0.3))
    model.add(ReLU())
    model.add(Dense(16, 3, rng, weight_scale=0.3))
    model.add(Softmax())
    model.set(
        loss=CategoricalCrossEntropy(),
        optimizer=Adam(learning_rate=0.01),
        accuracy=AccuracyCategorical(),
    )
    model.finalize()
    _to_float32(model)
    history = model.train(X, y, epochs=20, batch_size=32, rng=rng, progress=False)
    _assert_float32(model)
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]


def test_lenet_trains_in_float32():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    y = np.arange(16) % 10
    model = _to_float32(build_lenet(rng))
    history = model.train(X, y, epochs=3, batch_size=8, rng=rng, progress=False)
    _assert_float32(model)
    assert np.isfinite(history["loss"]).all() and history["loss"][-1] < history["loss"][0], history[
        "loss"
    ]
