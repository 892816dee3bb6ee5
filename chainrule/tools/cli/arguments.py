"""Checking the user's input to the `chainrule` command: the value types of its options, which
argparse reports as usage errors (exit status 2), and `CommandError` for input found bad later,
reported as one line with exit status 1."""

import argparse

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C


class CommandError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


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
    return _checked(text, int, lambda value: value >= 0, "a non-negative integer")


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
