"""What every system's benchmark script shares: the workloads, MNIST, the result record.

Each ``bench_<system>.py`` runs in its own interpreter (a peer's virtual environment has NumPy
but not chainrule), so this module needs NumPy and the standard library only. A script times its
framework's import first, then trains one workload and writes one JSON record (see
:func:`write_result`) to the path given by ``--out``.
"""

import argparse
import ctypes
import glob
import gzip
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parent.parent / "chainrule" / "keras" / "datasets" / "data"
PIXELS = 28 * 28
CLASSES = 10

# Each workload: hidden ReLU layer sizes, then a 10-way softmax; Keras's optimizer name, its
# default learning rate, the batch size and the default number of epochs.
WORKLOADS = {
    "article": {
        "hidden": (10,),
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "batch_size": 32,
        "epochs": 10,
    },
    "wide": {
        "hidden": (512, 512),
        "optimizer": "adam",
        "learning_rate": 0.001,
        "batch_size": 128,
        "epochs": 3,
    },
}

_IDX_UBYTE = 0x08
MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def read_idx_ubyte(path):
    """The uint8 array stored in a gzip-compressed IDX file (MNIST's format).

    Header: two zero bytes, the dtype code (0x08 = uint8), the number of dimensions d, then d
    big-endian uint32 sizes; the items follow in row-major order.
    """
    with gzip.open(path, "rb") as file:
        raw = file.read()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != _IDX_UBYTE:
        raise ValueError(f"{path} is not an IDX file of uint8 items (header {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(
            f"{path}: the header promises shape {shape} ({int(np.prod(shape))} bytes) but "
            f"{len(raw) - offset} bytes follow it"
        )
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(shape)


def load_mnist(data_dir):
    """MNIST preprocessed as the article does, identically for every system.

    Returns:
        dict with x_train (60000, 784) and x_test (10000, 784) float32 in [0, 1] (pixels / 255),
        y_train and y_test one-hot (n, 10) float32, labels_train and labels_test (n,) int64.
    """
    data = {}
    for split in ("train", "test"):
        images = read_idx_ubyte(os.path.join(data_dir, MNIST_FILES[f"x_{split}"]))
        labels = read_idx_ubyte(os.path.join(data_dir, MNIST_FILES[f"y_{split}"]))
        x = images.reshape(len(images), PIXELS).astype(np.float32)
        x /= 255.0
        data[f"x_{split}"] = x
        data[f"labels_{split}"] = labels.astype(np.int64)
        data[f"y_{split}"] = np.eye(CLASSES, dtype=np.float32)[labels]
    return data


def parse_args(description):
    """The command line every system script takes (``run.py`` passes all of it)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", required=True, help="folder with MNIST's four IDX .gz files")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="article")
    parser.add_argument("--epochs", type=int, default=None, help="default: the workload's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args()
    args.config = dict(WORKLOADS[args.workload])
    if args.epochs is not None:
        args.config["epochs"] = args.epochs
    return args


class EpochClock:
    """Wall-clock seconds of each epoch: call ``start()`` before one and ``stop()`` after it."""

    def __init__(self):
        self.seconds = []
        self._began = None

    def start(self):
        self._began = time.perf_counter()

    def stop(self):
        self.seconds.append(time.perf_counter() - self._began)


def peak_rss_mb():
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def openblas_runtime():
    """{'core': kernel set chosen at run time, 'threads': n} for NumPy's bundled OpenBLAS.

    The values OpenBLAS itself reports (OPENBLAS_CORETYPE overrides the core it detects). None
    when NumPy links another BLAS or the library cannot be inspected.
    """
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(folder, "libscipy_openblas*.so*")):
        suffix = "64_" if "openblas64" in os.path.basename(path) else ""
        try:
            library = ctypes.CDLL(path)
            corename = getattr(library, f"scipy_openblas_get_corename{suffix}")
            threads = getattr(library, f"scipy_openblas_get_num_threads{suffix}")
        except (OSError, AttributeError):
            continue
        corename.restype, threads.restype = ctypes.c_char_p, ctypes.c_int
        return {"core": corename().decode(), "threads": threads()}
    return None


def openblas_backend():
    """The ``backend`` entry of a system whose math is NumPy's: OpenBLAS's core and threads."""
    runtime = openblas_runtime()
    return (
        {}
        if runtime is None
        else {"OpenBLAS core": runtime["core"], "OpenBLAS threads": runtime["threads"]}
    )


def numpy_blas():
    """NumPy's version and build-time BLAS (name, version, configuration) plus its runtime."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "numpy": np.__version__,
        "blas": blas.get("name"),
        "blas_version": blas.get("version"),
        "blas_config": blas.get("openblas configuration"),
        "runtime": openblas_runtime(),
    }


def write_result(
    args, system, version, import_seconds, clock, samples, test_accuracy, train_logs, backend
):
    """Write this run's JSON record to ``args.out``.

    Args:
        system: the name in the table; version: the framework's version string.
        import_seconds: the time ``import <framework>`` took in this fresh interpreter.
        clock: the EpochClock of the training run; samples: training samples per epoch.
        test_accuracy: after the last epoch.
        train_logs: the last epoch's training loss and accuracy, as a dict.
        backend: the framework's own math library and thread settings, as a dict.
    """
    record = {
        "system": system,
        "version": version,
        "workload": args.workload,
        "seed": args.seed,
        "config": args.config,
        "import_seconds": import_seconds,
        "epoch_seconds": clock.seconds,
        "samples": samples,
        "test_accuracy": float(test_accuracy),
        "train_logs": {k: float(v) for k, v in train_logs.items()},
        "peak_rss_mb": peak_rss_mb(),
        "backend": backend,
        "cpus": len(os.sched_getaffinity(0)),
        "numpy": numpy_blas(),
        "python": sys.version.split()[0],
    }
    with open(args.out, "w") as file:
        json.dump(record, file)
