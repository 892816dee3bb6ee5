"""Checking the user's input to the `chainrule` command: the value types of its options, which
argparse reports as usage errors (exit status 2), `UsageError` for an option's value that is bad
only given the others or the data (also exit status 2), and `CommandError` for other input found
bad later (a file, a folder), reported as one line with exit status 1."""

import argparse

EXIT_ERROR = 1
EXIT_USAGE = 2  # argparse's status for a bad command line
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit


class CommandError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


class UsageError(CommandError):
    """An option's value that cannot work with the others or the data, reported as argparse
    reports a bad value: one line naming the option and the value, exit status 2.

    Args:
        option: the option's name, such as "--hidden".
        message: the value and what is allowed, such as "10000000 makes ...".
    """

    def __init__(self, option, message):
        super().__init__(f"argument {option}: {message}")


def _checked(text, parse, valid, expected):
    """`parse(text)` if it parses and passes `valid`; else argparse's error naming `expected`."""
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return value


def positive_int(text):
    return _checked(text, int, lambda value: value >= 1, "a positive integer")


def positive_float(text):
    return _checked(text, float, lambda value: 0 < value < float("inf"), "a positive number")


def seed(text):
    return _checked(
        text, int, lambda value: 0 <= value <= MAX_SEED, f"an integer from 0 to {MAX_SEED}"
    )


def fraction(text):
    return _checked(text, float, lambda value: 0 <= value < 1, "a number in [0, 1), such as 0.1")


def layer_sizes(text):
    try:
        return tuple(positive_int(size) for size in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected hidden layer sizes as positive integers separated by commas, such as "
            f"128,64; got {text!r}"
        ) from None


def plural(count, noun):
    """ "1 epoch", "2 epochs"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
