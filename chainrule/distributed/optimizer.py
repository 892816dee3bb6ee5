"""Averaging gradients across ranks before each update, and making every rank start alike.

Data parallelism keeps one copy of the model on every rank. Each rank computes the gradient of
the loss on its own shard of the global batch; :class:`DistributedOptimizer` averages those
gradients with one Allreduce, so that every rank applies the same update to the same weights,
as one process training on the whole batch would:

    dL/dW = (1/N) sum_r dL_r/dW        L_r: the mean loss over rank r's B/N samples

That holds only if the copies start alike: :func:`broadcast_variables` copies rank 0's weights
(and optimizer state) to every rank, after checking that every rank built the same model.
"""

import numpy as np

from ..engine import Tensor
from . import comm


def average_gradients(grads, op=comm.AVERAGE):
    """Every rank's gradients averaged (or summed), in one Allreduce per dtype.

    The gradients are joined into one flat buffer, reduced in place and split back, so a model
    of many small weights costs one message, not one per weight. ``None`` gradients stay None.
    """
    grads = [g.data if isinstance(g, Tensor) else g for g in grads]
    if comm.size() == 1:
        return grads
    present = [i for i, g in enumerate(grads) if g is not None]
    by_dtype = {}
    for i in present:
        by_dtype.setdefault(np.asarray(grads[i]).dtype, []).append(i)
    averaged = list(grads)
    for dtype, indices in sorted(by_dtype.items(), key=lambda item: item[0].str):
        arrays = [np.asarray(grads[i]) for i in indices]
        flat = comm.allreduce(np.concatenate([a.ravel() for a in arrays]), op=op)
        offset = 0
        for i, a in zip(indices, arrays):
            averaged[i] = flat[offset : offset + a.size].reshape(a.shape)
            offset += a.size
    return averaged


def DistributedOptimizer(optimizer, op=comm.AVERAGE):
    """A copy of ``optimizer`` whose every step first averages the gradients across ranks.

    Works with any Keras optimizer, in ``fit`` and in custom training steps
    (``optimizer.apply(grads, variables)`` or ``apply_gradients``). The name is Horovod's.

    Args:
        optimizer: a Keras optimizer that has not taken a step yet.
        op: ``"average"`` (the gradient of the global batch) or ``"sum"``.

    Raises:
        ValueError: the optimizer has already built its state (wrap it before training).
    """
    if optimizer.built:
        raise ValueError(
            f"DistributedOptimizer: {optimizer.name!r} has already taken steps; wrap the "
            f"optimizer before compiling or training so that every rank starts alike."
        )
    wrapped = type(optimizer).from_config(optimizer.get_config())
    plain_apply = wrapped.apply
    wrapped._gradient_scale = 1.0  # a strategy sets it when a process's part of a batch is
    # larger or smaller than an equal share, so that the average is weighted by rows

    def apply(grads, trainable_variables):
        grads = list(grads)
        if wrapped._gradient_scale != 1.0:
            grads = [None if g is None else g * wrapped._gradient_scale for g in grads]
        return plain_apply(average_gradients(grads, op=op), trainable_variables)

    wrapped.apply = apply  # the instance's own: its class, config and file stay the optimizer's
    return wrapped


def broadcast_variables(variables, root_rank=0, what="variables"):
    """Copy rank ``root_rank``'s values of ``variables`` into every rank's, in place.

    First every rank's list of shapes and dtypes is compared with the root's, so that ranks
    that built different models stop at once, all of them, with the first difference named.

    Raises:
        ValueError: the ranks' variables differ in number, shape or dtype.
    """
    variables = list(variables)
    signature = [(tuple(v.shape), str(np.dtype(v.dtype))) for v in variables]
    _check_same_everywhere(signature, root_rank, what)
    for v in variables:
        v.assign(comm.broadcast(v.data, root_rank=root_rank))


def broadcast_optimizer_state(optimizer, variables, root_rank=0):
    """Copy rank ``root_rank``'s optimizer state (step count, per-variable slots) everywhere."""
    if getattr(optimizer, "gradient_accumulation_steps", None):  # the count of apply() calls
        calls = optimizer._iterations  # (``iterations`` counts the updates only)
        calls.assign(int(comm.broadcast_object(int(calls.data), root_rank)))
    else:
        optimizer.iterations = int(comm.broadcast_object(optimizer.iterations, root_rank))
    names = sorted(optimizer._slots)
    _check_same_everywhere(names, root_rank, "optimizer state")
    for name in names:
        for v in variables:
            slot = optimizer.slot(v, name)
            slot[...] = comm.broadcast(slot, root_rank=root_rank)


def _check_same_everywhere(signature, root_rank, what):
    everyone = comm._comm().allgather(signature)
    root = everyone[root_rank]
    for r, theirs in enumerate(everyone):
        if theirs == root:
            continue
        if len(theirs) != len(root):
            detail = f"{len(theirs)} {what} on rank {r}, {len(root)} on rank {root_rank}"
        else:
            k = next(i for i, (a, b) in enumerate(zip(theirs, root)) if a != b)
            detail = f"{what} #{k} is {theirs[k]} on rank {r} but {root[k]} on rank {root_rank}"
        raise ValueError(
            f"broadcast_variables: the ranks built different models ({detail}); every rank "
            f"must run the same model code."
        )
