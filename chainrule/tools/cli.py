"""The `chainrule` command: train the article's network on MNIST, evaluate it, read digits.

    chainrule train [--epochs 10] [--batch-size 32] [--learning-rate η] [--optimizer sgd]
                    [--hidden 10] [--seed N] [--validation-split 0] [--out DIR] [--quiet]
                    [--explain]
    chainrule evaluate MODEL
    chainrule predict MODEL IMAGE [IMAGE ...]
    chainrule explain [--tiny | --model MODEL] [--batch-size 32] [--samples 8] [--seed 0]

`train` fits  x (784,) -> Dense(h, relu) -> ... -> Dense(10, softmax)  to the 60,000 MNIST
training images with Keras's defaults (SGD with η = 0.01, batches of 32, 10 epochs, categorical
cross-entropy on one-hot labels, pixels scaled to [0, 1]), prints the test loss and accuracy, and
writes the model, its history and a plot of it. Bad input ends with one line on standard error
and exit status 1 (2 for a malformed command line), never a traceback.
"""

import argparse
import csv
import io
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from . import images
from ..keras.callbacks import Callback

NUM_CLASSES = 10
PIXELS = 28 * 28
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C


class CommandError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


class StopOnInterrupt(Callback):
    """Ctrl-C during `fit` stops training after the current batch instead of raising.

    The first SIGINT sets `model.stop_training`, which `fit` checks after every batch, and puts
    the previous handler back, so a second Ctrl-C interrupts at once. The previous handler is also
    restored when training ends. Outside the main thread, where Python cannot set signal handlers,
    this callback does nothing.

    Attributes:
        interrupted: None, or (epoch, batch), counted from 1, of the last batch trained before a
            Ctrl-C stopped training; set when training ends.
    """

    def __init__(self):
        super().__init__()
        self.interrupted = None
        self._requested = False
        self._previous = None
        self._position = (0, 0)

    def on_train_begin(self, logs=None):
        self.interrupted, self._requested = None, False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._stop)

    def on_epoch_begin(self, epoch, logs=None):
        self._position = (epoch + 1, 0)

    def on_train_batch_end(self, batch, logs=None):
        self._position = (self._position[0], batch + 1)

    def on_train_end(self, logs=None):
        self._restore()
        if self._requested:
            self.interrupted = self._position

    def _stop(self, signum, frame):
        self._requested = True
        self.model.stop_training = True
        self._restore()
        print(
            "\nCtrl-C: stopping after this batch (press Ctrl-C again to quit at once)",
            file=sys.stderr,
            flush=True,
        )

    def _restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


# ----- command line ------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line, pointing at --help instead of printing the usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _checked(text, parse, valid, expected):
    """`parse(text)` if it parses and passes `valid`; else argparse's error naming `expected`."""
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return value


def _positive_int(text):
    return _checked(text, int, lambda value: value >= 1, "a positive integer")


def _positive_float(text):
    return _checked(text, float, lambda value: 0 < value < float("inf"), "a positive number")


def _seed(text):
    return _checked(text, int, lambda value: value >= 0, "a non-negative integer")


def _fraction(text):
    return _checked(text, float, lambda value: 0 <= value < 1, "a number in [0, 1), such as 0.1")


def _layer_sizes(text):
    try:
        return tuple(_positive_int(size) for size in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected hidden layer sizes as positive integers separated by commas, such as "
            f"128,64; got {text!r}"
        ) from None


def build_parser():
    """The argparse parser of the `chainrule` command and its three subcommands."""
    from ..keras.optimizers import OPTIMIZERS

    parser = _Parser(
        prog="chainrule",
        description="Train, evaluate and use a digit classifier on MNIST with chainrule.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train the article's network on MNIST and report its test accuracy",
        description="Train x(784) -> Dense(relu) ... -> Dense(10, softmax) on the 60,000 MNIST "
        "training images with Keras's defaults, print the test loss and accuracy, and write "
        "model.keras, history.csv, history.json and training.png. Ctrl-C stops after the current "
        "batch and still writes them (exit status 130).",
    )
    train.add_argument(
        "--epochs", type=_positive_int, default=10, help="passes over the data (default 10)"
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        help="samples per gradient step (default 32)",
    )
    train.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=None,
        metavar="RATE",
        help="step size η (default: the optimizer's own, 0.01 for sgd)",
    )
    train.add_argument(
        "--optimizer",
        choices=sorted(OPTIMIZERS),
        default="sgd",
        metavar="NAME",
        help=f"the update rule: {', '.join(sorted(OPTIMIZERS))} (default sgd)",
    )
    train.add_argument(
        "--hidden",
        type=_layer_sizes,
        default=(10,),
        metavar="SIZES",
        help="hidden layer sizes, comma-separated, e.g. 128,64 (default 10: "
        "the article's single layer of 10 relu units)",
    )
    train.add_argument(
        "--seed", type=_seed, default=None, help="seed weights and shuffling for a repeatable run"
    )
    train.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="hold out this last fraction of the training images to validate "
        "on after each epoch (default 0)",
    )
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where to write the results (default runs/<date-time>/)",
    )
    train.add_argument(
        "--quiet",
        action="store_true",
        help="no progress output: only the test results and where they went",
    )
    train.add_argument(
        "--explain",
        action="store_true",
        help="also record each layer's gradient and weight norms during training (on 256 "
        "training images) and plot them in gradient_flow.png; warn when gradients vanish "
        "(below 1e-7) or explode (above 1e3) for a sustained stretch",
    )
    train.set_defaults(run=train_command)

    evaluate = commands.add_parser(
        "evaluate",
        help="test accuracy and confusion matrix of a saved model on the MNIST test images",
        description="Classify the 10,000 MNIST test images with a saved model; print its "
        "accuracy and the confusion matrix.",
    )
    evaluate.add_argument(
        "model", type=Path, help="a model file, e.g. runs/<date-time>/model.keras"
    )
    evaluate.set_defaults(run=evaluate_command)

    predict = commands.add_parser(
        "predict",
        help="read the digit in each image with a saved model",
        description="Print the digit a saved model sees in each image and the probability of "
        'each digit. Images are PNG (with Pillow: pip install "chainrule[image]") or PGM, '
        "grayscale or colour, any size: they are resized to 28x28, and dark ink on light "
        "paper is inverted to MNIST's white on black.",
    )
    predict.add_argument("model", type=Path, help="a model file, e.g. runs/<date-time>/model.keras")
    predict.add_argument(
        "images", type=Path, nargs="+", metavar="IMAGE", help="PNG or PGM pictures of digits"
    )
    predict.set_defaults(run=predict_command)

    explain = commands.add_parser(
        "explain",
        help="one training step with every factor of the chain rule computed three ways",
        description="Run one training step of the article's network (784 -> 10 relu -> 10 "
        "softmax, SGD, categorical cross-entropy) on MNIST digits and show its four steps: "
        "forward, loss, backward and update. Each gradient is computed by the textbook formula, "
        "by chainrule's engine and by finite differences, and their agreement shown; exit "
        "status 1 if they disagree.",
    )
    source = explain.add_mutually_exclusive_group()
    source.add_argument(
        "--tiny",
        action="store_true",
        help="a 4-3-2 network on 4 made-up samples, printing every number of every matrix",
    )
    source.add_argument(
        "--model", type=Path, default=None, help="a saved model to explain instead, on MNIST"
    )
    explain.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        help="MNIST digits in the batch (default 32)",
    )
    explain.add_argument(
        "--samples",
        type=_positive_int,
        default=8,
        metavar="N",
        help="entries of each matrix checked by finite differences (default 8; --tiny: all)",
    )
    explain.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed of the weights and the checked entries (default 0)",
    )
    explain.set_defaults(run=explain_command)
    return parser


def main(argv=None):
    """Run the `chainrule` command with `argv` (default: sys.argv[1:]); return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CommandError as err:
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# ----- train -------------------------------------------------------------------------------------
def train_command(args):
    """`chainrule train`: fit, report the test results, write the run's files."""
    from ..keras.optimizers import OPTIMIZERS
    from ..keras.utils import set_random_seed, to_categorical

    out = _output_folder(args.out)
    if args.seed is not None:
        set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = _mnist()
    model = _dense_network(args.hidden)
    rate = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
    optimizer = OPTIMIZERS[args.optimizer](**rate)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    layers = " -> ".join(
        [f"{PIXELS}"] + [f"{units} relu" for units in args.hidden] + [f"{NUM_CLASSES} softmax"]
    )
    described = (
        f"{layers}, {args.optimizer} (learning rate {float(optimizer.learning_rate):g}), "
        f"batch {args.batch_size}"
    )
    verbose = 0 if args.quiet else "auto"
    if not args.quiet:
        print(
            f"MNIST: {len(x_train)} training and {len(x_test)} test images; model {described}, "
            f"{args.epochs} epochs",
            flush=True,
        )

    stopper = StopOnInterrupt()
    callbacks = [stopper]
    flow = None
    if args.explain:
        from ..keras.callbacks import GradientFlow

        fitted = int(len(x_train) * (1 - args.validation_split))
        steps = args.epochs * -(-fitted // args.batch_size)
        flow = GradientFlow(
            x_train[:256], to_categorical(y_train[:256], NUM_CLASSES), every=max(1, steps // 200)
        )
        callbacks.append(flow)
    start = time.perf_counter()
    history = model.fit(
        x_train,
        to_categorical(y_train, NUM_CLASSES),
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=args.validation_split,
        verbose=verbose,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    if stopper.interrupted:
        epoch, batch = stopper.interrupted
        print(f"Stopped by Ctrl-C after batch {batch} of epoch {epoch}; results so far:")
    test_loss, test_accuracy = model.evaluate(
        x_test, to_categorical(y_test, NUM_CLASSES), batch_size=args.batch_size, verbose=verbose
    )
    print(f"Test loss: {test_loss:.4f}")
    print(f"Test accuracy: {test_accuracy:.4f}")

    record = {
        "params": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": args.optimizer,
            "learning_rate": float(optimizer.learning_rate),
            "hidden": list(args.hidden),
            "seed": args.seed,
            "validation_split": args.validation_split,
        },
        "epoch": history.epoch,
        "history": history.history,
        "test": {"loss": test_loss, "accuracy": test_accuracy},
        "interrupted": stopper.interrupted is not None,
        "seconds": round(seconds, 3),
    }
    title = f"MNIST: {described}; test accuracy {test_accuracy:.4f}"
    written = _write_run(out, model, record, title, flow)
    print(
        f"{len(history.epoch)} epochs in {seconds:.1f} s; wrote {', '.join(written)} "
        f"in {out}{os.sep}"
    )
    return EXIT_INTERRUPTED if stopper.interrupted else 0


def _output_folder(out):
    """Create the run's folder (default runs/<date-time>, made unique) and check it is writable."""
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in [""] + [f"-{n}" for n in range(2, 100)]:
            candidate = Path("runs") / f"{stamp}{suffix}"
            if not candidate.exists():
                out = candidate
                break
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file; pass --out with a folder to write results in")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise CommandError(
            f"cannot write results to --out {out}: {err.strerror or err}; pass --out with a "
            "folder you can write to"
        ) from None
    return out


def _write_run(out, model, record, title, flow=None):
    """Write model.keras, history.csv, history.json and training.png (and gradient_flow.png from
    a GradientFlow callback `flow`); return the names written.

    Each file is written whole or not at all (a temporary file renamed into place). A file that
    needs a missing optional extra (h5py for the model, matplotlib for the plot) is skipped with
    a one-line note, and the others are still written.
    """
    from .plot import plot_history

    keys = sorted(record["history"])
    table = io.StringIO(newline="")
    writer = csv.writer(table)  # the columns of Keras's CSVLogger: epoch from 0, sorted keys
    writer.writerow(["epoch"] + keys)
    for row, epoch in enumerate(record["epoch"]):
        writer.writerow([epoch] + [record["history"][key][row] for key in keys])
    history_csv = table.getvalue().encode("utf-8")
    history_json = (json.dumps(record, indent=2) + "\n").encode("utf-8")
    writers = {
        "model.keras": model.save,
        "history.csv": lambda path: _write_atomically(path, lambda file: file.write(history_csv)),
        "history.json": lambda path: _write_atomically(path, lambda file: file.write(history_json)),
        "training.png": lambda path: _write_atomically(
            path, lambda file: plot_history(record["history"], file, title=title)
        ),
    }
    if flow is not None and flow.steps:
        from .plot import plot_gradient_flow

        writers["gradient_flow.png"] = lambda path: _write_atomically(
            path, lambda file: plot_gradient_flow(flow, file, title=title)
        )
    written = []
    for name, write in writers.items():
        try:
            write(out / name)
            written.append(name)
        except ImportError as err:
            print(f"{name} not written: {err}")
        except OSError as err:
            raise CommandError(f"cannot write {out / name}: {err}") from None
    return written


def _write_atomically(path, write):
    """Call `write(file)` on a binary file that becomes `path` only once it is complete."""
    from ..keras.saving import atomic_write

    with atomic_write(path) as file:
        write(file)


def _dense_network(hidden):
    """x (784,) -> Dense(h, relu) for each h in `hidden` -> Dense(10, softmax), uncompiled."""
    from ..keras.layers import Dense
    from ..keras.models import Sequential

    return Sequential(
        [Dense(hidden[0], activation="relu", input_shape=(PIXELS,))]
        + [Dense(units, activation="relu") for units in hidden[1:]]
        + [Dense(NUM_CLASSES, activation="softmax")]
    )


def _mnist():
    """MNIST as Keras's example prepares it: (n, 784) float32 pixels in [0, 1], uint8 labels."""
    from ..keras.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (
        (x_train.reshape(-1, PIXELS).astype(np.float32) / 255, y_train),
        (x_test.reshape(-1, PIXELS).astype(np.float32) / 255, y_test),
    )


# ----- evaluate, predict -------------------------------------------------------------------------
def evaluate_command(args):
    """`chainrule evaluate MODEL`: test accuracy and confusion matrix on MNIST's test images."""
    model = _load_model(args.model)
    _, (x_test, y_test) = _mnist()
    predicted = _probabilities(model, x_test).argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted, NUM_CLASSES)
    correct = int(np.trace(matrix))
    print(f"Test accuracy: {correct / len(y_test):.4f} ({correct} of {len(y_test)} test images)")
    print("Confusion matrix (rows: true digit, columns: predicted digit):")
    print(format_confusion_matrix(matrix))
    return 0


def predict_command(args):
    """`chainrule predict MODEL IMAGE...`: the digit in each image and every digit's probability."""
    model = _load_model(args.model)
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


def _load_model(path):
    """Load a saved model, reporting a missing or unreadable file as a CommandError."""
    from ..keras.models import load_model

    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise CommandError(
            f"model file {path} {state}; `chainrule train` writes one as <out>/model.keras"
        )
    try:
        return load_model(path)
    except (OSError, ValueError, ImportError) as err:  # FileFormatError is a ValueError
        raise CommandError(f"cannot load model {path}: {err}") from None


def _sample_shape(model):
    """The shape of one input sample of `model` (without the batch axis), checked to hold the
    784 pixels of an MNIST image; (784,) for a model without a declared input shape."""
    shape = getattr(model, "batch_input_shape", None)
    sample_shape = (PIXELS,) if shape is None else tuple(shape[1:])
    if int(np.prod(sample_shape)) != PIXELS:
        raise CommandError(
            f"the model expects inputs of shape {sample_shape}; MNIST images have 28x28 = "
            f"{PIXELS} pixels"
        )
    return sample_shape


def _probabilities(model, x):
    """The model's class probabilities for flattened images x (n, 784), checked to be (n, 10)."""
    sample_shape = _sample_shape(model)
    outputs = model.predict(x.reshape((len(x),) + sample_shape), verbose=0)
    if outputs.shape != (len(x), NUM_CLASSES):
        raise CommandError(
            f"the model outputs shape {outputs.shape[1:]} per image; expected ({NUM_CLASSES},), "
            "one score per digit"
        )
    return outputs


# ----- explain -----------------------------------------------------------------------------------
def explain_command(args):
    """`chainrule explain`: one training step, each gradient by textbook, engine and finite
    differences; exit status 1 if they disagree."""
    from .explain import explain
    from ..keras.utils import set_random_seed

    set_random_seed(args.seed)
    if args.tiny:
        model, x, y = _tiny_problem(args.seed)
    else:
        model, x, y = _mnist_problem(args.model, args.batch_size)
    report = explain(
        model, x, y, samples=None if args.tiny else args.samples, seed=args.seed, verbose=False
    )
    report.render(matrices=args.tiny)
    return 0 if report.agrees else EXIT_ERROR


def _tiny_problem(seed):
    """A 4-3-2 network (relu, softmax) on 4 made-up samples of 4 features with one-hot labels of
    2 classes. Weights and inputs are rounded, to follow the arithmetic by hand, and drawn again
    while a pre-activation z of the relu layer lies within 0.05 of 0, ReLU's kink, where it has
    no derivative to check."""
    from ..keras.layers import Dense
    from ..keras.models import Sequential
    from ..keras.utils import to_categorical

    rng = np.random.default_rng(seed)
    model = Sequential(
        [Dense(3, activation="relu", input_shape=(4,)), Dense(2, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    while True:
        weights = [rng.uniform(-1, 1, w.shape).round(2) for w in model.get_weights()]
        x = rng.uniform(-1, 1, (4, 4)).round(1)
        if np.abs(x @ weights[0] + weights[1]).min() >= 0.05:
            break
    model.set_weights(weights)
    return model, x, to_categorical(rng.integers(0, 2, 4), 2)


def _mnist_problem(path, batch_size):
    """The article's model (or the saved one at `path`) and the first `batch_size` training
    digits, shaped for the model, with labels as its loss takes them."""
    from ..keras.utils import to_categorical

    if path is None:
        model = _dense_network((10,))
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    else:
        model = _load_model(path)
    (x_train, y_train), _ = _mnist()
    x, labels = x_train[:batch_size], y_train[:batch_size]
    if path is None:
        return model, x, to_categorical(labels, NUM_CLASSES)
    if not getattr(model, "compiled", False) or getattr(model, "_loss_object", None) is None:
        print(
            "The saved model has no compiled loss: explaining it with sgd and "
            "categorical_crossentropy."
        )
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    sample_shape = _sample_shape(model)
    sparse = "sparse" in getattr(model._loss_object, "name", "")
    return (
        model,
        x.reshape((len(x),) + sample_shape),
        (labels if sparse else to_categorical(labels, NUM_CLASSES)),
    )
