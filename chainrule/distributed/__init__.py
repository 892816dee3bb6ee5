"""Data-parallel training across processes and machines, on MPI.

Start N copies of a program with ``mpiexec -n N python train.py``; in it::

    import chainrule.distributed as dist

    dist.init()
    optimizer = dist.DistributedOptimizer(keras.optimizers.Adam(1e-3))
    model.compile(optimizer=optimizer, loss=...)
    callbacks = [dist.BroadcastGlobalVariablesCallback(0), dist.MetricAverageCallback()]
    model.fit(x[dist.rank():: dist.size()], y[dist.rank():: dist.size()], callbacks=callbacks,
              verbose=1 if dist.is_primary() else 0)

The names are Horovod's (``import horovod.keras as hvd`` becomes
``import chainrule.distributed as hvd``). Needs the ``mpi`` extra: ``pip install
"chainrule[mpi]"`` (mpi4py and the mpich wheel), or mpi4py built against a cluster's MPI.
"""

from .callbacks import BroadcastGlobalVariablesCallback, MetricAverageCallback
from .comm import (
    AVERAGE as Average,
)
from .comm import (
    SUM as Sum,
)
from .comm import (
    allgather,
    allreduce,
    barrier,
    broadcast,
    init,
    is_initialized,
    is_primary,
    local_rank,
    local_size,
    rank,
    size,
)
from .optimizer import (
    DistributedOptimizer,
    average_gradients,
    broadcast_optimizer_state,
    broadcast_variables,
)
from .strategy import MPIDataParallel, MultiWorkerMirroredStrategy
