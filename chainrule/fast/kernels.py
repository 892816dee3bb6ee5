"""Faster implementations of named primitives, installed only while a training call runs."""

import contextlib


@contextlib.contextmanager
def installed():
    yield
