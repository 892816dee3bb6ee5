"""Keras's names for classes in snake_case, used for layer names and the groups of saved files."""

import re


def snake_case(name):
    """Keras's ``to_snake_case``: 'BatchNormalization' -> 'batch_normalization', 'Conv2D' ->
    'conv2d'. It names layers and, in saved files, the groups that hold their weights."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
