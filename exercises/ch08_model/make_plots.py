"""The chapter's example: train a Model on the spiral, draw its learning curves, save it,
and show what the saved file holds.

Run it from the repository root once the chapter works:

    python3 -m nox -s run -- exercises.ch08_model.make_plots

It trains the model of the graded spiral run (Dense(2, 128) with a small L2 penalty, ReLU,
Dropout(0.1), Dense(128, 3), Softmax; Adam; 400 epochs of batches of 32), prints the
test accuracy, writes ``img/learning_curves.png`` next to this file with ``plot_history``,
saves the model to a temporary folder, loads it back, and prints the entries of the file
and its JSON architecture.
"""

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from . import (
    Adam,
    AccuracyCategorical,
    CategoricalCrossEntropy,
    Dense,
    Dropout,
    Model,
    ReLU,
    Softmax,
    plot_history,
    spiral_data,
    train_validation_split,
)

HERE = Path(__file__).resolve().parent


def spiral_model(seed):
    """The graded run's model, its weights drawn from default_rng(seed); returns (model, rng)."""
    rng = np.random.default_rng(seed)
    model = Model()
    model.add(Dense(2, 128, rng, weight_scale=0.1, weight_regularizer_l2=5e-5, bias_regularizer_l2=5e-5))
    model.add(ReLU())
    model.add(Dropout(0.1, np.random.default_rng(seed + 1000)))
    model.add(Dense(128, 3, rng, weight_scale=0.1))
    model.add(Softmax())
    model.set(loss=CategoricalCrossEntropy(), optimizer=Adam(learning_rate=0.02, decay=5e-4),
              accuracy=AccuracyCategorical())
    model.finalize()
    return model, rng


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "img")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except NotImplementedError as exc:
        print(f"Not implemented yet: {exc}. The example needs the whole chapter (and chapters 01-07); "
              "finish it, then run this again.")
        return 1


def run(args):
    data_rng = np.random.default_rng(args.seed)
    X, y = spiral_data(100, 3, data_rng)
    X_train, y_train, X_val, y_val = train_validation_split(X, y, 0.2, data_rng)
    X_test, y_test = spiral_data(100, 3, np.random.default_rng(args.seed + 1))

    model, rng = spiral_model(args.seed)
    history = model.train(X_train, y_train, epochs=400, batch_size=32, validation_data=(X_val, y_val), rng=rng,
                          print_every=100)
    test_loss, test_accuracy = model.evaluate(X_test, y_test)
    print(f"test: loss {test_loss:.4f}, accuracy {test_accuracy:.3f}")
    path = plot_history(history, args.out / "learning_curves.png",
                        title=f"Spiral, Dense(2, 128) + ReLU + Dropout(0.1) + Dense(128, 3): "
                              f"test accuracy {test_accuracy:.3f}")
    print(f"wrote {path}")

    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "spiral.npz"
        model.save(file)
        again = Model.load(file)
        same = np.array_equal(again.predict(X_test), model.predict(X_test))
        print(f"saved {file.name}: {file.stat().st_size} bytes; the loaded model predicts the same: {same}")
        with np.load(file, allow_pickle=False) as npz:
            for name in npz.files:
                print(f"  {name:24s} {str(npz[name].dtype):8s} {npz[name].shape}")
            spec = json.loads(npz["architecture"].tobytes().decode("utf-8"))
        print(json.dumps(spec, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
