"""Plain ``fit`` under ``MultiWorkerMirroredStrategy``, run by test_distributed.py under
``mpiexec -n N`` (or alone, as the one-process reference). Rank 0 writes the final weights and
the history to ``OUT``.npz and a checkpoint to ``OUT``.keras. By default 70 samples in global
batches of 16 (the last one short), through Dense(8, tanh) and Dense(3); ``--batchnorm`` puts a
BatchNormalization(synchronized=True) between them.

    python strategy_job.py OPTIMIZER OUT [--samples N] [--batch B] [--batchnorm]
    mpiexec -n N python strategy_job.py OPTIMIZER OUT [--samples N] [--batch B] [--batchnorm]
"""

import argparse
import json

import numpy as np

import chainrule as tf
import chainrule.distributed as dist
import chainrule.keras as keras


def build_model(batchnorm):
    hidden = [keras.layers.Dense(8, activation="tanh")]
    if batchnorm:  # no bias before it: its gradient is 0 up to rounding, which Adam magnifies
        hidden = [
            keras.layers.Dense(8, use_bias=False),
            keras.layers.BatchNormalization(synchronized=True),
        ]
        hidden.append(keras.layers.Activation("tanh"))
    return keras.Sequential([keras.Input((5,)), *hidden, keras.layers.Dense(3)])


def main(optimizer_name, out, samples, batch_size, batchnorm):
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras.utils.set_random_seed(dist.rank())  # other weights and shuffles: start() aligns them
    rng = np.random.default_rng(7)
    x = rng.standard_normal((samples, 5)).astype("float32")
    y = rng.integers(0, 3, samples)
    with strategy.scope():
        model = build_model(batchnorm)
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
            # what shard set for the last (uneven) batch is undone once fit and evaluate end
            scale = model.optimizer._gradient_scale
            json.dump({"history": history.history, "evaluation": evaluation, "scale": scale}, f)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("optimizer")
    parser.add_argument("out")
    parser.add_argument("--samples", type=int, default=70)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batchnorm", action="store_true")
    args = parser.parse_args()
    main(args.optimizer, args.out, args.samples, args.batch, args.batchnorm)
