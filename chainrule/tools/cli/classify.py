"""`chainrule evaluate` and `chainrule predict`: a saved model classifying digits, the MNIST test
images (accuracy and confusion matrix) or the user's own pictures (each digit's probability)."""

import numpy as np

from .. import images
from . import digits
from .arguments import CommandError
from .digits import NUM_CLASSES, PIXELS


def evaluate_command(args):
    """`chainrule evaluate MODEL`: test accuracy and confusion matrix on MNIST's test images."""
    model = digits.read_model(args.model)
    x_test, y_test = digits.mnist_test()
    predicted = _probabilities(model, x_test).argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted, NUM_CLASSES)
    correct = int(np.trace(matrix))
    print(f"Test accuracy: {correct / len(y_test):.4f} ({correct} of {len(y_test)} test images)")
    print("Confusion matrix (rows: true digit, columns: predicted digit):")
    print(format_confusion_matrix(matrix))
    return 0


def predict_command(args):
    """`chainrule predict MODEL IMAGE...`: the digit in each image and every digit's probability."""
    model = digits.read_model(args.model)
    pictures = []
    for path in args.images:
        try:
            pictures.append(images.to_mnist(images.read_grayscale(path)))
        except (OSError, ImportError, images.ImageFormatError) as err:
            message = (
                f"{err.strerror}: {path}" if isinstance(err, OSError) and err.strerror else str(err)
            )
            raise CommandError(message) from None
    probabilities = _probabilities(model, np.stack(pictures).reshape(len(pictures), PIXELS))
    for path, p in zip(args.images, probabilities):
        digit = int(p.argmax())
        print(f"{path}: {digit} (probability {p[digit]:.4f})")
        print("  " + "  ".join(f"{d}: {value:.4f}" for d, value in enumerate(p)))
    return 0


def confusion_matrix(labels, predicted, num_classes):
    """C[i, j] = the number of samples of class i predicted as class j; shape (k, k), int64.

    Args:
        labels: true classes, shape (n,), integers in [0, k).
        predicted: predicted classes, shape (n,), integers in [0, k).
        num_classes: k.
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predicted, np.int64)), 1)
    return matrix


def format_confusion_matrix(matrix):
    """The matrix as a table: class numbers on both edges, each row's accuracy C_ii / Σ_j C_ij."""
    width = max(5, len(str(matrix.max())) + 1)
    lines = ["true " + "".join(f"{j:>{width}}" for j in range(len(matrix))) + "   accuracy"]
    for i, row in enumerate(matrix):
        accuracy = row[i] / row.sum() if row.sum() else float("nan")
        lines.append(
            f"{i:>4} " + "".join(f"{count:>{width}}" for count in row) + f"   {accuracy:8.4f}"
        )
    return "\n".join(lines)


def _probabilities(model, x):
    """The model's class probabilities for flattened images x (n, 784), checked to be (n, 10)."""
    sample_shape = digits.sample_shape(model)
    outputs = model.predict(x.reshape((len(x),) + sample_shape), verbose=0)
    if outputs.shape != (len(x), NUM_CLASSES):
        raise CommandError(
            f"the model outputs shape {outputs.shape[1:]} per image; expected ({NUM_CLASSES},), "
            "one score per digit"
        )
    return outputs
