"""Chapter 11: the recurrent layers in chapter 08's Model, unchanged: an LSTM trains (the
optimizer reaches its weights through parameters() and gradients()), is saved to a model
file and loaded back with the same predictions, and stays put when frozen."""

from grader.api import Rng, check_array, check_true, fail, np, points

N, T, H = 64, 6, 6


def _data():
    rng = np.random.default_rng(11)
    values = rng.uniform(0, 1, size=(N, T))
    marks = np.zeros((N, T))
    marks[np.arange(N), rng.integers(0, T, size=N)] = 1.0
    return np.stack([values, marks], axis=2), np.sum(values * marks, axis=1, keepdims=True)


def _weights(layer):
    return {k: np.asarray(v, dtype=np.float64) for k, v in layer.parameters().items()}


@points(2)
def test_lstm_in_model_trains_saves_loads_and_freezes(student):
    X, y = _data()
    model = student.Model()
    lstm = student.LSTM(2, H, Rng(0))
    for layer in (
        lstm,
        student.LastStep(),
        student.Dense(H, 1, Rng(1), weight_scale=0.3),
        student.Linear(),
    ):
        model.add(layer)
    model.set(
        loss=student.MeanSquaredError(),
        optimizer=student.Adam(learning_rate=0.01),
        accuracy=student.AccuracyRegression(),
    )
    model.finalize()
    call = "Model with [LSTM(2, 6), LastStep(), Dense(6, 1), Linear()]: train(X (64, 6, 2), y, epochs=3)"
    before = _weights(lstm)
    model.train(X, y, epochs=3, batch_size=16, rng=Rng(2))
    after = _weights(lstm)
    unchanged = [k for k in before if np.array_equal(before[k], after[k])]
    if unchanged:
        fail(
            f"{call}: the LSTM's {', '.join(unchanged)} did not change during training",
            "The optimizer updates what gradients() returns after backward: LSTM.backward must store the sums "
            "over the steps in self.grads (a fresh dict each call is fine; a local variable is not).",
        )
    pred = check_array(
        model.predict(X),
        np.zeros((N, 1)),
        call=f"{call}; model.predict(X)",
        atol=np.inf,
        what="predictions",
    )
    model.save("lstm_model.npz")
    loaded = student.Model.load("lstm_model.npz")
    check_array(
        loaded.predict(X),
        pred,
        call="Model.load(file of that model).predict(X)",
        rtol=1e-12,
        atol=1e-12,
        what="predictions of the loaded model",
    )
    model.layers[0].trainable = False
    model.train(X, y, epochs=1, batch_size=16, rng=Rng(3))
    frozen = _weights(model.layers[0])
    check_true(
        all(np.array_equal(frozen[k], after[k]) for k in after),
        f"{call}: with the LSTM's trainable set to False, one more epoch still changed its weights",
    )
