"""Data-parallel ``fit`` on MPI, with TensorFlow's name::

    strategy = chainrule.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = build_model()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=256, epochs=5)      # 256 rows per step, over all processes

Every process runs the same script on the same data (``mpiexec -n 4 python train.py``). See
:mod:`chainrule.keras.distribution` for what ``fit`` then does; this module supplies the
collectives.
"""

import contextlib

import numpy as np

from .. import nest, ops
from .. import random as random_module
from ..keras.distribution import SingleProcess, distribution_scope
from . import comm
from .optimizer import DistributedOptimizer, broadcast_optimizer_state, broadcast_variables


def part_bounds(rows, rank, size):
    """The rows [start, stop) of a batch of ``rows`` that process ``rank`` of ``size`` takes:
    consecutive parts whose sizes differ by one at most (the first ones get the extra rows)."""
    base, extra = divmod(rows, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


class MPIDataParallel(SingleProcess):
    """Data parallelism over the processes of an MPI job (see the module's docstring)."""

    def __init__(self):
        comm.init()
        self.rank, self.size = comm.rank(), comm.size()
        self.is_primary = self.rank == 0
        self._optimizers = []

    def wrap_optimizer(self, optimizer):
        wrapped = DistributedOptimizer(optimizer)
        self._optimizers.append(wrapped)
        return wrapped

    def shard(self, batch):
        leaves = nest.flatten(batch)
        rows = len(leaves[0])
        start, stop = part_bounds(rows, self.rank, self.size)
        # the optimizer weighs this part's gradient by its share of the batch
        scale = (stop - start) * self.size / rows
        for optimizer in self._optimizers:
            optimizer._gradient_scale = scale
        if self.size > 1:  # a replica_sum's gradient undoes the weighting of the sum's part
            ops.sum_replicas_with(comm.sum_over_ranks, weight=scale)
        return nest.map_structure(lambda a: a[start:stop] if a is not None else a, batch)

    def finish(self):
        # a training loop of the user's own after fit weighs nothing and sums over no parts
        for optimizer in self._optimizers:
            optimizer._gradient_scale = 1.0
        if self.size > 1:
            ops.sum_replicas_with(comm.sum_over_ranks)

    def start(self, model):
        random_module.set_state(comm.broadcast_object(random_module.get_state()))
        if model.built and model.weights:
            broadcast_variables(model.weights, what="weights")
            if model.optimizer is not None and model.optimizer.built:
                broadcast_optimizer_state(model.optimizer, model.trainable_weights)

    @contextlib.contextmanager
    def synchronized(self, metrics):
        variables = [v for metric in metrics for v in getattr(metric, "variables", ())]
        local = [np.array(v.numpy(), copy=True) for v in variables]
        try:
            for variable, value in zip(variables, local):
                variable.assign(comm.allreduce(value, op=comm.SUM))
            yield
        finally:
            for variable, value in zip(variables, local):
                variable.assign(value)


class MultiWorkerMirroredStrategy:
    """TensorFlow's name for data-parallel training across processes and machines.

    Models compiled inside ``scope()`` train data-parallel in ``fit`` and ``evaluate``;
    ``num_replicas_in_sync`` is the number of processes.
    """

    def __init__(self, *args, **kwargs):
        self.distribution = MPIDataParallel()

    @property
    def num_replicas_in_sync(self):
        return self.distribution.size

    def scope(self):
        return distribution_scope(self.distribution)
