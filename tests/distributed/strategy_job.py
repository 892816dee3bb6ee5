"""Plain ``fit`` under ``MultiWorkerMirroredStrategy``, run by test_distributed.py under
``mpiexec -n N`` (or alone, as the one-process reference). Rank 0 writes the final weights and
the history to ``OUT``.npz and a checkpoint to ``OUT``.keras.

    python strategy_job.py OPTIMIZER OUT
    mpiexec -n N python strategy_job.py OPTIMIZER OUT
"""

import json
import sys

import numpy as np

import chainrule as tf
import chainrule.distributed as dist
import chainrule.keras as keras


def main(optimizer_name, out):
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras.utils.set_random_seed(dist.rank())  # other weights and shuffles: start() aligns them
    rng = np.random.default_rng(7)
    x = rng.standard_normal((70, 5)).astype("float32")  # 70 rows: the last batch is short
    y = rng.integers(0, 3, 70)
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
        batch_size=16,
        epochs=3,
        validation_split=0.2,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(out + ".keras")],
    )
    evaluation = model.evaluate(x, y, verbose=0, return_dict=True)
    if dist.is_primary():
        np.savez(out + ".npz", *model.get_weights())
        with open(out + ".json", "w") as f:
            json.dump({"history": history.history, "evaluation": evaluation}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
