"""Sums over the processes (replicas) of a data-parallel job, as a differentiable primitive.

The ops floor knows nothing of MPI: :func:`replica_sum` calls the summing function installed with
:func:`sum_replicas_with` (``chainrule.distributed`` installs an Allreduce when a job of several
processes starts); until then a job has one replica and the sum is the value itself.
"""

from ..engine import primitive


def _one_replica(x):
    return x.copy()


_INSTALLED = {"sum": _one_replica, "weight": 1.0}


def sum_replicas_with(summing=None, weight=1.0):
    """Make :func:`replica_sum` call ``summing(array) -> array``, the element-wise sum of every
    replica's array (the same on every replica), and weigh its gradient by ``weight``, the
    factor by which this replica's gradients are multiplied after the backward pass (its part
    of the global batch over an equal share). None restores the one-replica identity."""
    _INSTALLED["sum"] = summing or _one_replica
    _INSTALLED["weight"] = float(weight)


@primitive
def replica_sum(x):
    """y = Σ_r x_r: the element-wise sum of every replica's x (same shape on all), the same y on
    every replica.

    Replica r's gradients are multiplied by its weight w_r after its backward pass and then
    averaged, so the job minimises L = (1/N) Σ_q w_q L_q; every L_q reads y, hence

        dL/dx_r = (1/N) Σ_q w_q g_q,   and replica r returns   replica_sum(w_r g_r) / w_r

    so that its weighting restores the sum: the VJP is itself a replica sum of the upstream
    gradients (every replica must take it, as every replica took the forward). A replica of
    weight 0 (an empty part of a batch) returns zeros, which its weighting discards anyway.
    In a job of one replica, y = x and dL/dx = g.
    """
    return _INSTALLED["sum"](x)


@replica_sum.defvjp(0)
def _replica_sum_vjp(g, y, x):
    weight = _INSTALLED["weight"]
    total = replica_sum(g * weight)
    return total * (1.0 / weight if weight else 0.0)
