"""Fashion-MNIST, Zalando's clothing images, as `keras.datasets.fashion_mnist`.

A drop-in replacement for MNIST: 28x28 grayscale images in 10 classes (0 T-shirt/top, 1 Trouser,
2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot). The four gzipped
IDX files are downloaded on first use into `cache_dir()/datasets/fashion-mnist`, verified by
sha256, and reused from there afterwards. Copyright Zalando SE, MIT license.
"""

import os

from .download import DEFAULT_TIMEOUT, get_file
from .mnist import FILE_NAMES, read_splits

MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")

# sha256 of the published files, `<name>.gz` (the same bytes on both mirrors).
SHA256 = {
    "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def load_data(mirrors=None, timeout=DEFAULT_TIMEOUT):
    """Load Fashion-MNIST, downloading it on first use.

    Args:
        mirrors: base URLs to try in order; None uses `MIRRORS`.
        timeout: seconds to wait on any one connect or read before trying the next mirror.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,); pixels 0-255, labels 0-9.

    Raises:
        DownloadError: a file is neither cached nor obtainable from any mirror; the message
            lists the URLs tried and the full path to place the file at by hand (all four
            `<name>.gz` files go in that same folder).
        IDXFormatError: a file is not a well-formed IDX file.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    files = [
        get_file(f"{base}.gz", mirrors, SHA256[base], CACHE_SUBDIR, timeout) for base in FILE_NAMES
    ]
    return read_splits(files)
