"""Callbacks that keep the ranks of a job in step during ``fit`` (Horovod's names)."""

import numpy as np

from ..keras.callbacks import Callback
from . import comm
from .optimizer import broadcast_optimizer_state, broadcast_variables


class BroadcastGlobalVariablesCallback(Callback):
    """Start every rank from rank ``root_rank``'s weights and optimizer state.

    The weights are sent when training begins if the model is built, and after the first
    batch in any case, with the optimizer's state, which exists only once a step has run.
    """

    def __init__(self, root_rank=0):
        super().__init__()
        self.root_rank = root_rank
        self._done = False

    def on_train_begin(self, logs=None):
        if self.model.built and self.model.weights:
            broadcast_variables(self.model.weights, self.root_rank, "weights")

    def on_train_batch_end(self, batch, logs=None):
        if self._done:
            return
        broadcast_variables(self.model.weights, self.root_rank, "weights")
        optimizer = self.model.optimizer
        if optimizer is not None and optimizer.built:
            broadcast_optimizer_state(optimizer, self.model.trainable_weights, self.root_rank)
        self._done = True


class MetricAverageCallback(Callback):
    """Replace each epoch's metric values in ``logs`` by their average over the ranks.

    Every rank sees the same number of samples per epoch when the data is sharded evenly, so
    the plain average is the average over all samples.
    """

    def on_epoch_end(self, epoch, logs=None):
        if not logs:
            return
        names = sorted(k for k, v in logs.items() if np.ndim(v) == 0)
        values = comm.allreduce(np.array([float(logs[k]) for k in names], dtype=np.float64))
        logs.update(zip(names, (float(v) for v in values)))
