"""Plain ``fit`` under ``MultiWorkerMirroredStrategy``, run by test_distributed.py under
``mpiexec -n N`` (or alone, as the one-process reference). Rank 0 writes the final weights and
the history to ``OUT``.npz and a checkpoint to ``OUT``.keras. By default 70 samples in global
batches of 16 (the last one short); SAMPLES and BATCH choose others.

    python strategy_job.py OPTIMIZER OUT [SAMPLES BATCH]
    mpiexec -n N python strategy_job.py OPTIMIZER OUT [SAMPLES BATCH]
"""

import json
import sys

import numpy as np

import chainrule as tf
import chainrule.distributed as dist
import chainrule.keras as keras


def main(optimizer_name, out, samples=70, batch_size=16):
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras.utils.set_random_seed(dist.rank())  # other weights and shuffles: start() aligns them
    rng = np.random.default_rng(7)
    x = rng.standard_normal((samples, 5)).astype("float32")
    y = rng.integers(0, 3, samples)
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)]
        )
        model.compile(
            optimizer=optimizer_name,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    history = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=3,
        validation_split=0.2,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(out + ".keras")],
    )
    evaluation = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    if dist.is_primary():
        np.savez(out + ".npz", *model.get_weights())
        with open(out + ".json", "w") as f:
            json.dump({"history": history.history, "evaluation": evaluation}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:]))
