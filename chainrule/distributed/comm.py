"""The processes of a data-parallel job, and the collectives between them, on MPI (mpi4py).

A job is N copies of one program started by ``mpiexec -n N`` (or a cluster's launcher); each
copy is a *rank* 0..N-1. Data parallelism needs three collectives:

- ``allreduce``: every rank gives an array of the same shape; every rank gets the element-wise
  sum (or average) of all of them. Averaging the gradients of N equal shards of a batch gives
  the gradient of the whole batch, because a mean of means over equal parts is the mean.
- ``broadcast``: rank ``root`` gives an array; every rank gets a copy (the initial weights).
- ``allgather``: every rank gives an array; every rank gets all of them, in rank order.

Without ``mpiexec`` the program is a job of one rank and the collectives return their input.

A rank that raises an uncaught exception would leave the others waiting forever inside a
collective; :func:`init` therefore installs an exception hook that names the rank and its
error, then aborts the whole job (``MPI_Abort``), which the launcher turns into every rank's exit.
"""

import os
import sys
import time

import numpy as np

from .. import ops
from ..engine import Tensor

try:
    from mpi4py import MPI
except ImportError:  # the optional extra is not installed; init() says how to install it
    MPI = None

AVERAGE, SUM = "average", "sum"
_state = {"comm": None, "local": None}


# What MPI launchers set in each process they start: the job's size (MPICH/Hydra and PMI-based
# launchers such as srun, Open MPI, MVAPICH).
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def launched_size():
    """The number of processes the MPI launcher that started this one started (1 when this
    process was not started by one), read from the environment without initialising MPI."""
    for variable in LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return 1


def init(comm=None):
    """Join the job (idempotent): find this process's rank and install the fault handler.

    Args:
        comm: an ``mpi4py`` communicator to use instead of ``COMM_WORLD`` (a subset of ranks).

    Raises:
        ImportError: mpi4py is missing, with the command that installs it.
    """
    if _state["comm"] is not None:
        return
    if MPI is None:
        raise ImportError(
            "chainrule.distributed needs mpi4py and an MPI library: "
            'pip install "chainrule[mpi]" (mpi4py with the mpich wheel), or mpi4py built '
            "against your cluster's MPI."
        )
    world = comm if comm is not None else MPI.COMM_WORLD
    _state["comm"] = world
    _state["local"] = world.Split_type(MPI.COMM_TYPE_SHARED, key=world.Get_rank())
    if world.Get_size() > 1:
        _install_fault_handler(world)
        ops.sum_replicas_with(sum_over_ranks)  # replica_sum (synchronized BatchNormalization)


def is_initialized():
    """True once :func:`init` has run."""
    return _state["comm"] is not None


def _comm():
    if _state["comm"] is None:
        init()
    return _state["comm"]


def rank():
    """This process's number in the job, 0..size()-1."""
    return _comm().Get_rank()


def size():
    """The number of processes in the job."""
    return _comm().Get_size()


def local_rank():
    """This process's number among the job's processes on this machine."""
    _comm()
    return _state["local"].Get_rank()


def local_size():
    """The number of the job's processes on this machine."""
    _comm()
    return _state["local"].Get_size()


def is_primary():
    """True on rank 0, the rank that prints, logs and saves."""
    return rank() == 0


def barrier():
    """Wait until every rank has reached this call."""
    _comm().Barrier()


def _raw(value):
    """A C-contiguous ndarray copy of ``value`` (a Tensor, array or number)."""
    data = value.data if isinstance(value, Tensor) else value
    return np.array(data, copy=True, order="C")


def allreduce(value, op=AVERAGE):
    """Every rank's ``value`` summed (``op="sum"``) or averaged (``op="average"``) element-wise.

    Returns an ndarray of the same shape and dtype (an average of integers is floored by the
    dtype, as NumPy's in-place division would not be defined: use floats).

    Raises:
        ValueError: an unknown ``op``.
    """
    if op not in (AVERAGE, SUM):
        raise ValueError(f"allreduce: op must be 'average' or 'sum', got {op!r}")
    array = _raw(value)
    comm = _comm()
    if comm.Get_size() > 1:
        comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
        if op == AVERAGE:
            array /= comm.Get_size()
    return array


def sum_over_ranks(array):
    """Every rank's ``array`` summed element-wise (what ``ops.replica_sum`` computes in a job)."""
    return allreduce(array, op=SUM)


def broadcast(value, root_rank=0):
    """Rank ``root_rank``'s ``value`` on every rank (an ndarray; same shape everywhere)."""
    array = _raw(value)
    comm = _comm()
    if comm.Get_size() > 1:
        comm.Bcast(array, root=root_rank)
    return array


def broadcast_object(obj, root_rank=0):
    """Rank ``root_rank``'s picklable ``obj`` on every rank. Used for small metadata only
    (shapes, names); never for anything read from a file."""
    return _comm().bcast(obj, root=root_rank)


def allgather(value):
    """Every rank's ``value`` joined along axis 0, in rank order (shapes may differ on axis 0)."""
    array = _raw(value)
    comm = _comm()
    if comm.Get_size() == 1:
        return array
    parts = comm.allgather(array)
    return np.concatenate(parts, axis=0)


def _install_fault_handler(comm):
    """On an uncaught exception: print which rank failed and why, then abort every rank."""
    previous = sys.excepthook

    def abort_job(kind, error, trace):
        previous(kind, error, trace)
        sys.stderr.write(
            f"chainrule.distributed: rank {comm.Get_rank()} of {comm.Get_size()} failed "
            f"({kind.__name__}: {error}); aborting every rank.\n"
        )
        sys.stderr.flush()
        time.sleep(0.5)  # let the launcher forward these lines before it tears the job down
        comm.Abort(1)

    sys.excepthook = abort_job
