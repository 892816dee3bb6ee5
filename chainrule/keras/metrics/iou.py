"""Intersection-over-union metrics, from a confusion matrix accumulated over batches.

For class c, IoU_c = TP_c / (TP_c + FP_c + FN_c) = cm[c, c] / (row sum + column sum - cm[c, c]),
with cm[i, j] the weighted number of values labelled i and predicted j. As in Keras, the matrix
has the metric's dtype, int32 by default, so float sample weights are truncated to integers.
"""

import numpy as np

from .. import config
from .base import Metric, as_array, as_result


class IoU(Metric):
    """The mean IoU over the classes ``target_class_ids`` (the IoU of that class for one id).

    Classes whose union is empty are left out of the mean.

    Args:
        num_classes: the number of classes C; labels and predictions outside [0, C) are
            ignored.
        target_class_ids: the classes to average (a list or tuple of ids < C).
        name: default "io_u".  dtype: of the confusion matrix (default "int32").
        ignore_class: a label value whose entries are ignored (a "void" class), or None.
        sparse_y_true, sparse_y_pred: whether the labels / predictions are class ids (default)
            or scores along ``axis``, turned into ids by argmax.
        axis: the class axis of dense inputs (default -1).
    """

    _direction = "up"

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(name=name, dtype=dtype or "int32")
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"{type(self).__name__}: target class id {max(target_class_ids)} is out of "
                f"range, which is [0, {num_classes}); pass ids below num_classes={num_classes}."
            )
        self.num_classes, self.target_class_ids = num_classes, list(target_class_ids)
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.total_cm = self.add_variable(
            shape=(num_classes, num_classes),
            initializer="zeros",
            dtype=self.dtype,
            name="total_confusion_matrix",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if not self.sparse_y_true:
            y_true = y_true.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(axis=self.axis)
        dtype = np.dtype(self.dtype)
        y_true, y_pred = y_true.astype(dtype).reshape(-1), y_pred.astype(dtype).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__}: labels and predictions hold different numbers of "
                f"values ({y_true.size} and {y_pred.size}); they must match one to one."
            )
        weight = 1 if sample_weight is None else as_array(sample_weight).astype(dtype).reshape(-1)
        weight = np.broadcast_to(weight, y_true.shape)
        kept = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0)
        kept &= y_pred < self.num_classes
        if self.ignore_class is not None:
            kept &= y_true != self.ignore_class
        cells = y_true[kept].astype(np.int64) * self.num_classes + y_pred[kept].astype(np.int64)
        matrix = np.bincount(cells, weight[kept], minlength=self.num_classes**2)
        self.total_cm.assign_add(matrix.reshape(self.num_classes, -1).astype(dtype))

    def _class_ious(self):
        """(IoU per target class, whether its union is nonempty)."""
        matrix = self.total_cm.numpy().astype(np.float64)
        true_positives = np.diag(matrix)
        union = matrix.sum(axis=0) + matrix.sum(axis=1) - true_positives
        ids = self.target_class_ids
        valid = union[ids] > 1e-9
        return np.where(valid, true_positives[ids] / (union[ids] + config.epsilon()), 0.0), valid

    def result(self):
        ious, valid = self._class_ious()
        return as_result(ious.sum() / (valid.sum() + config.epsilon()))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary labels, with predictions made binary by y_pred >= ``threshold``.

    Args:
        target_class_ids: (0, 1) (default: the mean of both), (0,) or (1,).
        threshold: default 0.5.  name: default "binary_io_u".  dtype: default "int32".
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = (as_array(y_pred, np.float32) >= self.threshold).astype(np.dtype(self.dtype))
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes. Arguments as for :class:`IoU`, without
    ``target_class_ids``; name default "mean_io_u"."""

    def __init__(
        self,
        num_classes,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (argmax along ``axis``); predictions are scores too
    unless ``sparse_y_pred``. Name default "one_hot_io_u"."""

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_pred=False,
        axis=-1,
    ):
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels; predictions are scores too unless
    ``sparse_y_pred``. Name default "one_hot_mean_io_u"."""

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
