"""The pictures ``--plot`` writes: what the model learned, not only how the loss fell.

Three PNGs per run: the training curves (loss, and training and test accuracy per epoch),
a grid of test images with the predicted and true label of each (the misclassified ones
first, in red), and the confusion matrix of the test set. matplotlib is optional and is
imported only here, when a picture is drawn; ``flags.check_matplotlib`` has made sure
before training that it is installed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["save_curves", "save_predictions", "save_confusion", "grid_order"]

WRONG, RIGHT = "tab:red", "black"


def _pyplot():
    import matplotlib  # noqa: PLC0415 - an optional dependency

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _save(figure, path: str) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    _pyplot().close(figure)


def save_curves(history, path: str, title: str) -> None:
    """The training loss (log scale) and the training and test accuracy, per epoch."""
    plt = _pyplot()
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history.loss) + 1)
    loss_axes.plot(epochs, history.loss, marker="o", markersize=3)
    loss_axes.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log", title="loss")
    accuracy_axes.plot(epochs, 100 * np.asarray(history.accuracy), marker="o", markersize=3, label="training")
    if history.test_accuracy:
        test = 100 * np.asarray(history.test_accuracy)
        accuracy_axes.plot(epochs, test, marker="o", markersize=3, label=f"test (last {test[-1]:.1f}%)")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    accuracy_axes.legend(loc="lower right")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(True, alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(title)
    _save(figure, path)


def grid_order(labels, predictions, count: int) -> np.ndarray:
    """Which test images a grid of ``count`` shows: every misclassified one first (up to
    half the grid), then correctly classified ones, each group in test-set order.

    Example:
      >>> grid_order(np.array([0, 1, 2, 3, 4]), np.array([0, 2, 2, 0, 4]), 4)
      array([1, 3, 0, 2])
    """
    wrong = np.flatnonzero(labels != predictions)[: count // 2 or count]
    right = np.flatnonzero(labels == predictions)[: count - len(wrong)]
    return np.concatenate([wrong, right])


def save_predictions(images, labels, predictions, path: str, title: str, columns: int = 10, rows: int = 6):
    """A grid of test images, each titled with the predicted and the true label."""
    plt = _pyplot()
    shown = grid_order(labels, predictions, columns * rows)
    figure, grid = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.35 * rows + 0.6))
    for axes in grid.flat:
        axes.axis("off")
    for axes, index in zip(grid.flat, shown):
        wrong = predictions[index] != labels[index]
        axes.imshow(images[index], cmap="gray_r")
        axes.set_title(
            f"{predictions[index]} (true {labels[index]})", color=WRONG if wrong else RIGHT, fontsize=9
        )
        if wrong:  # a red frame, so the mistakes stand out at a glance
            axes.axis("on")
            axes.set(xticks=[], yticks=[])
            for spine in axes.spines.values():
                spine.set(color=WRONG, linewidth=2.5)
    mistakes = int(np.sum(labels != predictions))
    figure.suptitle(
        f"{title}: predicted (true) label; {mistakes} of {len(labels)} test images wrong, shown first in red"
    )
    _save(figure, path)


def save_confusion(counts, path: str, title: str) -> None:
    """The confusion matrix, each cell labelled with its count."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.5, 5.5))
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, label="test images")
    classes = np.arange(len(counts))
    axes.set(xticks=classes, yticks=classes, xlabel="predicted label", ylabel="true label", title=title)
    for true, predicted in np.ndindex(counts.shape):
        if counts[true, predicted]:
            light = counts[true, predicted] > counts.max() / 2  # white text on dark cells
            axes.text(
                predicted, true, str(counts[true, predicted]), ha="center", va="center",
                color="white" if light else ("black" if true == predicted else WRONG), fontsize=8,
            )  # fmt: skip
    _save(figure, path)
