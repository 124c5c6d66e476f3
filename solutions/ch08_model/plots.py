"""Learning curves: the loss and the accuracy of every epoch, training and validation.

``plot_history(history, path)`` draws the history that ``Model.train`` returns and saves it
as a PNG. matplotlib is imported inside the function (with the non-interactive Agg
backend), so importing this chapter never needs it.
"""

from pathlib import Path


def plot_history(history, path, title=None):
    """Save loss and accuracy curves, per epoch, to the PNG file ``path``.

    history: dict of lists as returned by ``Model.train`` (``data_loss``, ``loss``,
             ``accuracy`` and, when there was validation data, ``val_loss`` and
             ``val_accuracy``)
    path:    where to write the figure (its folder is created if needed)
    title:   optional title above both panels
    returns: the path written, as a ``Path``

    The left panel shows the training data loss and the validation loss (both without
    the regularization penalty, so that they are comparable) on a log scale, and the
    training loss with the penalty, dashed, when the penalty is not zero. The right panel
    shows the training and validation accuracy.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = list(range(1, len(history["data_loss"]) + 1))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8.0, 3.4), dpi=100)
    ax_loss.plot(epochs, history["data_loss"], label="training (data loss)", linewidth=1.4)
    if any(history.get("regularization_loss", [])):
        ax_loss.plot(epochs, history["loss"], label="training (with penalty)", linewidth=1.0, linestyle="--",
                     color="C0", alpha=0.7)
    if history.get("val_loss"):
        ax_loss.plot(epochs, history["val_loss"], label="validation", linewidth=1.4, color="C1")
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("loss")
    ax_acc.plot(epochs, history["accuracy"], label="training", linewidth=1.4)
    if history.get("val_accuracy"):
        ax_acc.plot(epochs, history["val_accuracy"], label="validation", linewidth=1.4, color="C1")
    ax_acc.set_ylabel("accuracy")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path
