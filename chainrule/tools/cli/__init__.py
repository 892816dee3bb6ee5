"""The `chainrule` command: train the article's network on MNIST, evaluate it, read digits.

    chainrule train [--epochs 10] [--batch-size 32] [--learning-rate η] [--optimizer sgd]
                    [--hidden 10] [--seed N] [--validation-split 0] [--out DIR] [--overwrite]
                    [--quiet] [--explain]
    chainrule evaluate MODEL
    chainrule predict MODEL IMAGE [IMAGE ...]
    chainrule explain [--tiny | --model MODEL] [--batch-size 32] [--samples 8] [--seed 0]

`train` fits  x (784,) -> Dense(h, relu) -> ... -> Dense(10, softmax)  to the 60,000 MNIST
training images with Keras's defaults (SGD with η = 0.01, batches of 32, 10 epochs, categorical
cross-entropy on one-hot labels, pixels scaled to [0, 1]), prints the test loss and accuracy, and
writes the model, its history and a plot of it into a new folder (an existing one that holds files
only with --overwrite). Bad input ends with one line on standard error and exit status 1 (2 for a
malformed command line or an option's value that cannot work), never a traceback.

This module holds the argument parser and `main`; each command lives in a module of its own
(`train`, `classify` for evaluate and predict, `explain`), on top of `arguments` (checking the
user's input) and `digits` (the data and models the commands share).
"""

import argparse
import sys
from pathlib import Path

from ...keras.optimizers import OPTIMIZERS
from ...version import __version__
from .arguments import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandError,
    UsageError,
    fraction,
    layer_sizes,
    positive_float,
    positive_int,
    seed,
)
from .classify import evaluate_command, predict_command
from .explain import explain_command
from .train import train_command


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line, pointing at --help instead of printing the usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The argparse parser of the `chainrule` command and its four subcommands."""
    parser = _Parser(
        prog="chainrule",
        description="Train, evaluate and use a digit classifier on MNIST with chainrule.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train the article's network on MNIST and report its test accuracy",
        description="Train x(784) -> Dense(relu) ... -> Dense(10, softmax) on the 60,000 MNIST "
        "training images with Keras's defaults, print the test loss and accuracy, and write "
        "model.keras, history.csv, history.json and training.png. Ctrl-C stops after the current "
        "batch and still writes them, with only the completed epochs in history.csv (exit status "
        "130). A NaN or infinite loss ends training with an error and writes nothing.",
    )
    train.add_argument(
        "--epochs", type=positive_int, default=10, help="passes over the data (default 10)"
    )
    train.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        help="samples per gradient step (default 32)",
    )
    train.add_argument(
        "--learning-rate",
        type=positive_float,
        default=None,
        metavar="RATE",
        help="step size η (default: the optimizer's own, 0.01 for sgd)",
    )
    train.add_argument(
        "--optimizer",
        type=str.lower,  # any case, as keras.optimizers.get takes it
        choices=sorted(OPTIMIZERS),
        default="sgd",
        metavar="NAME",
        help=f"the update rule: {', '.join(sorted(OPTIMIZERS))} (default sgd)",
    )
    train.add_argument(
        "--hidden",
        type=layer_sizes,
        default=(10,),
        metavar="SIZES",
        help="hidden layer sizes, comma-separated, e.g. 128,64 (default 10: "
        "the article's single layer of 10 relu units)",
    )
    train.add_argument(
        "--seed", type=seed, default=None, help="seed weights and shuffling for a repeatable run"
    )
    train.add_argument(
        "--validation-split",
        type=fraction,
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
        help="where to write the results: a new or empty folder (default runs/<date-time>/, "
        "with -2, -3, ... added if that exists)",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="write into an --out folder that already holds files, replacing an earlier run's",
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
    train.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="train data-parallel in N processes on this machine, started with mpiexec (needs "
        'pip install "chainrule[mpi]"); across machines, run `mpiexec -f hosts -n N chainrule '
        "train ...` instead",
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
        type=positive_int,
        default=32,
        help="MNIST digits in the batch (default 32)",
    )
    explain.add_argument(
        "--samples",
        type=positive_int,
        default=8,
        metavar="N",
        help="entries of each matrix checked by finite differences (default 8; --tiny: all)",
    )
    explain.add_argument(
        "--seed",
        type=seed,
        default=0,
        help="seed of the weights and the checked entries (default 0)",
    )
    explain.set_defaults(run=explain_command)
    return parser


def main(argv=None):
    """Run the `chainrule` command with `argv` (default: sys.argv[1:]); return its exit status."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except UsageError as err:
        print(
            f"chainrule {args.command}: error: {err} (see chainrule {args.command} --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except CommandError as err:
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
