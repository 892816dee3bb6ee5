"""Accuracies: the per-sample hit functions and their running means."""

import numpy as np

from .base import HIT_TESTS, WrapperWithConfig, as_array, as_result, same_rank, wrapper_class


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly (elementwise), else 0.0."""
    y_true, y_pred = same_rank(as_array(y_true), as_array(y_pred))
    return as_result(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where y_true == [y_pred > threshold] (elementwise), else 0.0."""
    y_true, y_pred = same_rank(as_array(y_true), as_array(y_pred))
    return as_result(y_true == (y_pred > threshold))


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) over the last axis, else 0.0; shape
    y_pred.shape[:-1]."""
    return as_result(_categorical_hits(as_array(y_true), as_array(y_pred)))


def _categorical_hits(y_true, y_pred):
    return y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)


def _sparse_labels(y_true, y_pred):
    """Integer labels with the rank of y_pred minus one (a trailing axis of 1 dropped)."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals argmax(y_pred) over the last axis, else 0.0."""
    return as_result(_sparse_hits(as_array(y_true), as_array(y_pred)))


def _sparse_hits(y_true, y_pred):
    return _sparse_labels(y_true, y_pred) == y_pred.argmax(axis=-1)


HIT_TESTS[categorical_accuracy] = _categorical_hits
HIT_TESTS[sparse_categorical_accuracy] = _sparse_hits


def _in_top_k(targets, y_pred, k):
    """True where the target's score is among the k highest of its row: fewer than k scores are
    strictly higher (so a tie with the k-th score counts as in the top k). y_pred (..., C),
    targets its shape without the last axis."""
    scores = np.take_along_axis(y_pred, targets[..., None].astype(np.int64), axis=-1)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    return (y_pred > scores).sum(axis=-1) < k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the k highest predictions, else 0.0."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    return as_result(_in_top_k(y_true.argmax(axis=-1), y_pred, k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest predictions, else 0.0.

    With ``from_sorted_ids``, y_pred holds class ids sorted by score (best first), and the test
    is whether the label is among the first k.
    """
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    if from_sorted_ids:
        y_true = _sparse_labels(y_true, y_pred)
        return as_result((y_pred[..., :k] == y_true[..., None]).any(axis=-1))
    return as_result(_in_top_k(_sparse_labels(y_true, y_pred), y_pred, k))


Accuracy = wrapper_class(
    "Accuracy",
    accuracy,
    "accuracy",
    "up",
    "How often predictions equal labels exactly: the running mean of :func:`accuracy`.",
)
BinaryAccuracy = wrapper_class(
    "BinaryAccuracy",
    binary_accuracy,
    "binary_accuracy",
    "up",
    "How often [y_pred > threshold] equals the 0/1 label: the running mean of "
    ":func:`binary_accuracy`.  Args: name, dtype, threshold (default 0.5).",
    threshold=0.5,
)
CategoricalAccuracy = wrapper_class(
    "CategoricalAccuracy",
    categorical_accuracy,
    "categorical_accuracy",
    "up",
    "How often argmax(y_pred) is the one-hot label's class: the running mean of "
    ":func:`categorical_accuracy`.",
)
SparseCategoricalAccuracy = wrapper_class(
    "SparseCategoricalAccuracy",
    sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    "up",
    "How often argmax(y_pred) is the integer label: the running mean of "
    ":func:`sparse_categorical_accuracy`.",
)


class TopKCategoricalAccuracy(WrapperWithConfig):
    """How often the one-hot label's class is among the ``k`` (default 5) highest predictions:
    the running mean of :func:`top_k_categorical_accuracy`."""

    _config_keys = ("k",)
    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(WrapperWithConfig):
    """How often the integer label is among the ``k`` (default 5) highest predictions (or, with
    ``from_sorted_ids``, among the first k ids of y_pred): the running mean of
    :func:`sparse_top_k_categorical_accuracy`."""

    _direction = "up"

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )
        self.k, self.from_sorted_ids = k, from_sorted_ids

    def get_config(self):
        config = {**super().get_config(), "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
