"""What the `chainrule` commands share: MNIST's digits as they feed them to a model, the
article's network, and a saved model loaded and checked to take the 784 pixels of an image."""

import numpy as np

from ...keras.datasets import mnist as mnist_dataset
from ...keras.layers import Dense, Input
from ...keras.models import Sequential, load_model
from .arguments import CommandError

NUM_CLASSES = 10
PIXELS = 28 * 28


def mnist():
    """MNIST as Keras's example prepares it: (n, 784) float32 pixels in [0, 1], uint8 labels."""
    train, test = mnist_dataset.load_data()
    return _prepared(*train), _prepared(*test)


def mnist_training_batch(size):
    """MNIST's first `size` training digits, prepared as by `mnist()` (the other digits stay
    uint8: no float copy of the whole set is made)."""
    (images, labels), _ = mnist_dataset.load_data()
    return _prepared(images[:size], labels[:size])


def mnist_test():
    """MNIST's 10,000 test digits alone, prepared as by `mnist()`."""
    return _prepared(*mnist_dataset.load_test_data())


def _prepared(images, labels):
    return images.reshape(-1, PIXELS).astype(np.float32) / 255, labels


def dense_network(hidden):
    """x (784,) -> Dense(h, relu) for each h in `hidden` -> Dense(10, softmax), uncompiled."""
    return Sequential(
        [Input(shape=(PIXELS,))]
        + [Dense(units, activation="relu") for units in hidden]
        + [Dense(NUM_CLASSES, activation="softmax")]
    )


def read_model(path):
    """Load a saved model, reporting a missing or unreadable file as a CommandError."""
    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise CommandError(
            f"model file {path} {state}; `chainrule train` writes one as <out>/model.keras"
        )
    try:
        return load_model(path)
    except (OSError, ValueError, ImportError) as err:  # FileFormatError is a ValueError
        raise CommandError(f"cannot load model {path}: {err}") from None


def sample_shape(model):
    """The shape of one input sample of `model` (without the batch axis), checked to hold the
    784 pixels of an MNIST image; (784,) for a model without a declared input shape."""
    shape = getattr(model, "batch_input_shape", None)
    sample = (PIXELS,) if shape is None else tuple(shape[1:])
    if int(np.prod(sample)) != PIXELS:
        raise CommandError(
            f"the model expects inputs of shape {sample}; MNIST images have 28x28 = {PIXELS} pixels"
        )
    return sample
