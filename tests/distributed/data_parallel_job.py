"""A small data-parallel training job, run by test_distributed.py under ``mpiexec -n N`` (or
alone, as the one-process reference). It writes the trained weights of rank 0 to ``out``.

    python data_parallel_job.py OPTIMIZER OUT [--ranks-seed]     (one process: the reference)
    mpiexec -n N python data_parallel_job.py OPTIMIZER OUT        (N ranks, same global batch)
"""

import sys

import numpy as np

import chainrule.distributed as dist
import chainrule.keras as keras

GLOBAL_BATCH, SAMPLES, EPOCHS = 16, 64, 3


def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((SAMPLES, 5)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, SAMPLES), 3)
    return x, y


def shard(array, rank, size):
    """Rank ``rank``'s part of every global batch, in batch order: fit(batch_size=B/N) on it
    sees, at step k, the k-th global batch's rows [rank*B/N, (rank+1)*B/N)."""
    per_rank = GLOBAL_BATCH // size
    batches = array.reshape(SAMPLES // GLOBAL_BATCH, size, per_rank, *array.shape[1:])
    return batches[:, rank].reshape(-1, *array.shape[1:])


def main(optimizer_name, out):
    dist.init()
    rank, size = dist.rank(), dist.size()
    keras.utils.set_random_seed(rank)  # different starting weights: the broadcast must fix them
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)]
    )
    optimizer = dist.DistributedOptimizer(keras.optimizers.get(optimizer_name))
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x, y = data()
    model.fit(
        shard(x, rank, size),
        shard(y, rank, size),
        batch_size=GLOBAL_BATCH // size,
        epochs=EPOCHS,
        shuffle=False,
        verbose=0,
        callbacks=[dist.BroadcastGlobalVariablesCallback(0), dist.MetricAverageCallback()],
    )
    if dist.is_primary():
        np.savez(out, *model.get_weights())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
