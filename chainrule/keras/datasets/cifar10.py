"""CIFAR-10 as `keras.datasets.cifar10`: 60,000 32x32 colour images in 10 classes (0 airplane,
1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck), 50,000 for
training and 10,000 for testing.

The Python release, ``cifar-10-python.tar.gz`` (pickled batches), is downloaded on first use into
``cache_dir()/datasets/cifar10`` and verified by sha256. The batches are read straight from the
archive (nothing is extracted to disk) with an unpickler that accepts only NumPy arrays, lists,
dicts and plain values.
"""

import os
import tarfile

import numpy as np

from .download import DEFAULT_TIMEOUT, get_file
from .safe_pickle import load_pickle

MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
CACHE_SUBDIR = os.path.join("datasets", "cifar10")
FILE_NAME = "cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"


def load_data(mirrors=None, timeout=DEFAULT_TIMEOUT):
    """Load CIFAR-10, downloading it on first use.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shapes (50000, 32, 32, 3)
        and (10000, 32, 32, 3) (channels last, Keras's default image data format), and uint8
        labels of shapes (50000, 1) and (10000, 1).

    Raises:
        DownloadError: the archive is neither cached nor obtainable.
        ValueError: a batch is missing from the archive or malformed.
        UnsafePickleError: a batch's pickle asks for anything but NumPy arrays.
    """
    archive = get_file(
        FILE_NAME, MIRRORS if mirrors is None else mirrors, SHA256, CACHE_SUBDIR, timeout
    )
    with tarfile.open(archive, "r:gz") as tar:
        train = [read_batch(tar, name) for name in TRAIN_BATCHES]
        x_test, y_test = read_batch(tar, TEST_BATCH)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), (x_test, y_test)


def read_batch(tar, name):
    """One pickled batch of the archive: its dict's b"data" (n, 3072) uint8 rows, each the red,
    green and blue 32x32 planes, become (n, 32, 32, 3) images, and b"labels" (n, 1) uint8.

    Raises:
        ValueError: the member is missing or its contents are not a CIFAR batch.
    """
    member = f"{FOLDER}/{name}"
    try:
        stream = tar.extractfile(member)
    except KeyError:
        stream = None
    if stream is None:
        raise ValueError(f"cifar10: {member} is missing from the archive {tar.name}.")
    with stream:
        batch = load_pickle(stream, encoding="bytes")
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"cifar10: {member} must hold a dict with b'data', a uint8 array of shape (n, 3072)."
        )
    labels = np.asarray(labels, dtype=np.uint8).reshape(-1, 1)
    if len(labels) != len(data):
        raise ValueError(f"cifar10: {member} has {len(data)} images but {len(labels)} labels.")
    images = data.astype(np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels
