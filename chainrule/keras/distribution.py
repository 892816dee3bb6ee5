"""How a model's training is spread over processes: the hooks ``fit``, ``evaluate`` and the
callbacks that write files consult.

A model remembers the distribution that was active when it was compiled (the one of an open
``strategy.scope()`` block, else :class:`SingleProcess`). With several processes, data-parallel
training goes as follows, every process running the same program on the same data:

- each global batch of ``batch_size`` rows is cut into one part per process (:meth:`shard`);
- each process computes its part's gradient, and the optimizer averages them, weighted by the
  parts' sizes, so that every process applies the global batch's gradient;
- before the first step, every process takes process 0's weights, optimizer state and random
  generator (so that all shuffle alike), and after each epoch the metrics are reported from
  their state summed over the processes (:meth:`synchronized`);
- only process 0 prints, logs and saves (:attr:`is_primary`).

This module holds the single-process default and the current choice; the MPI implementation is
``chainrule.distributed.strategy``.
"""

import contextlib


class SingleProcess:
    """The default: one process holds the whole batch. Every hook leaves things as they are."""

    rank, size, is_primary = 0, 1, True

    def wrap_optimizer(self, optimizer):
        """The optimizer to train with (one that averages gradients across processes)."""
        return optimizer

    def shard(self, batch):
        """This process's part of a global batch (a structure of arrays sharing axis 0)."""
        return batch

    def start(self, model):
        """Make every process start alike (weights, optimizer state, random generator)."""

    def finish(self):
        """Undo what :meth:`shard` set for the last batch, once a loop over batches ends."""

    @contextlib.contextmanager
    def synchronized(self, metrics):
        """Inside the block, ``metrics`` hold their state summed over the processes."""
        yield


_ACTIVE = [SingleProcess()]


def distribution():
    """The distribution new models are compiled under."""
    return _ACTIVE[-1]


@contextlib.contextmanager
def distribution_scope(chosen):
    """Compile models under ``chosen`` inside the block (what ``strategy.scope()`` does)."""
    _ACTIVE.append(chosen)
    try:
        yield chosen
    finally:
        _ACTIVE.pop()


def is_primary(model):
    """True unless ``model`` trains under a distribution whose process 0 is another process:
    the callbacks that write files ask this first."""
    return getattr(model, "_distribution", _ACTIVE[0]).is_primary
