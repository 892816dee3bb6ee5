"""MNIST handwritten digits, as `keras.datasets.mnist`, shipped inside the package.

The four gzipped IDX files of the MNIST database (Yann LeCun, Corinna Cortes and Christopher J.C.
Burges; license CC BY-SA 3.0) sit in `data/` beside this module, so `load_data()` works offline.
Their sha256 digests are checked on every load. `load_test_data()` reads the test files alone.
"""

import hashlib
import io
from pathlib import Path

from .download import check_sha256
from .idx import read_idx, to_idx_bytes

FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
BUNDLED_DIR = Path(__file__).parent / "data"

# sha256 of the bundled files, `data/<name>.gz`, exactly as shipped.
BUNDLED_SHA256 = {
    "train-images-idx3-ubyte": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "train-labels-idx1-ubyte": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    "t10k-images-idx3-ubyte": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "t10k-labels-idx1-ubyte": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
}

# sha256 of the uncompressed IDX files: a user's copy passed with `path=` is checked against
# these, so it matches whether it is plain or compressed by any gzip tool at any level.
CONTENT_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def load_data(path=None):
    """Load the MNIST dataset: 60,000 training and 10,000 test images of the digits 0-9.

    Args:
        path: None (the default) reads the copy bundled with chainrule. Otherwise a directory
            (str or os.PathLike) holding the four standard MNIST IDX files under their usual
            names (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
            `t10k-labels-idx1-ubyte`), each plain or with a `.gz` suffix. Keras's
            `path="mnist.npz"` names a cache file; here use None instead.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,); pixels 0-255, labels 0-9.

    Raises:
        ChecksumError: a bundled .gz file differs from the one shipped, or a file under `path`
            is not the standard MNIST content (its uncompressed sha256 differs).
        FileNotFoundError: `path` does not exist, or lacks some of the four files.
        ValueError: `path` is a file rather than a directory.
        TypeError: `path` is neither None nor a path.
        IDXFormatError: a file is not a well-formed IDX file.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()
        >>> x_train.shape, y_train[:5]
        ((60000, 28, 28), array([5, 0, 4, 1, 9], dtype=uint8))
    """
    if path is None:
        return _load_bundled()
    folder = _idx_folder(path)
    files = [_find_idx_file(folder, base) for base in FILE_NAMES]
    splits = read_splits(files)
    (x_train, y_train), (x_test, y_test) = splits
    for file, base, array in zip(files, FILE_NAMES, (x_train, y_train, x_test, y_test)):
        content = hashlib.sha256(to_idx_bytes(array)).hexdigest()
        check_sha256(
            file,
            content,
            CONTENT_SHA256[base],
            "It is not the standard MNIST file: replace it with a fresh copy, or call "
            "load_data() to use the bundled one.",
        )
    return splits


def read_splits(sources, names=None):
    """Read four MNIST-layout IDX files into Keras's `((x_train, y_train), (x_test, y_test))`.

    Args:
        sources: four paths or binary file objects, in the order train images, train labels,
            test images, test labels.
        names: the four names to use in error messages; defaults to the paths.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: images of shape (n, rows, cols), labels (n,).

    Raises:
        ValueError: images are not 3-D uint8, labels not 1-D uint8, or their counts differ.
        IDXFormatError: a file is not a well-formed IDX file.
    """
    names = [str(source) for source in sources] if names is None else names
    return _read_pair(sources[:2], names[:2]), _read_pair(sources[2:], names[2:])


def load_test_data():
    """The 10,000 test images and labels of the bundled MNIST, `load_data()[1]`, read without
    the 60,000 training images (a quarter of the time and memory).

    Returns:
        `(x_test, y_test)`: uint8 arrays of shapes (10000, 28, 28) and (10000,).

    Raises:
        ChecksumError: a bundled .gz file differs from the one shipped.
    """
    return _load_bundled(FILE_NAMES[2:])


def _read_pair(sources, names):
    """(images, labels) from two IDX files, checked to be uint8 (n, rows, cols) and (n,)."""
    images, labels = (read_idx(source, name) for source, name in zip(sources, names))
    image_name, label_name = names
    if (images.dtype, images.ndim, labels.dtype, labels.ndim) != ("uint8", 3, "uint8", 1):
        raise ValueError(
            f"expected uint8 images of shape (n, rows, cols) and uint8 labels of shape (n,); "
            f"got {images.dtype} {images.shape} from {image_name} and {labels.dtype} "
            f"{labels.shape} from {label_name}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{image_name} holds {len(images)} images but {label_name} holds {len(labels)} "
            "labels; expected one label per image"
        )
    return images, labels


def _load_bundled(bases=FILE_NAMES):
    """Read shipped .gz files (all four, or an images-labels pair of `FILE_NAMES`), verifying
    each one's bytes before decompressing it."""
    streams, names = [], []
    for base in bases:
        file = BUNDLED_DIR / f"{base}.gz"
        data = file.read_bytes()
        check_sha256(
            file,
            hashlib.sha256(data).hexdigest(),
            BUNDLED_SHA256[base],
            "The copy shipped with chainrule is damaged: reinstall chainrule.",
        )
        streams.append(io.BytesIO(data))
        names.append(str(file))
    if len(bases) == 2:
        return _read_pair(streams, names)
    return read_splits(streams, names)


def _idx_folder(path):
    """Check that `path` names an existing directory and return it as a Path."""
    try:
        folder = Path(path)
    except TypeError:
        raise TypeError(
            "mnist.load_data: path must be None or a directory (str or os.PathLike), got "
            f"{type(path).__name__}"
        ) from None
    if folder.is_dir():
        return folder
    hint = (
        "path must be a directory holding the four MNIST IDX files, or None for the copy "
        "bundled with chainrule"
    )
    if folder.exists():
        raise ValueError(f"mnist.load_data: {folder} is a file; {hint}")
    raise FileNotFoundError(f"mnist.load_data: {folder} does not exist; {hint}")


def _find_idx_file(folder, base):
    """Return `folder/base`, or `folder/base.gz`, whichever exists."""
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"mnist.load_data: {folder} has neither {base} nor {base}.gz; expected the four files "
        f"{', '.join(FILE_NAMES)} (each plain or .gz)"
    )
