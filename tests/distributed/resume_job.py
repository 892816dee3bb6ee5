"""Training stopped and resumed from rank 0's checkpoint, with other numbers of ranks, run by
test_distributed.py. Adam, 64 samples in global batches of 16, no shuffling.

    python resume_job.py whole OUT          4 epochs in one go; the weights to OUT.npz
    mpiexec -n N python resume_job.py first OUT     epochs 1-2, checkpointed to OUT.keras
    mpiexec -n M python resume_job.py resume OUT    epochs 3-4 from OUT.keras; weights to OUT.npz
"""

import sys

import numpy as np

import chainrule as tf
import chainrule.distributed as dist
import chainrule.keras as keras

EPOCHS, FIRST_EPOCHS = 4, 2


def data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((64, 5)).astype("float32"), rng.integers(0, 3, 64)


def new_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def main(phase, out):
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    x, y = data()
    with strategy.scope():
        model = keras.models.load_model(out + ".keras") if phase == "resume" else new_model()
    fit = dict(batch_size=16, shuffle=False, verbose=0)
    if phase == "first":
        checkpoint = keras.callbacks.ModelCheckpoint(out + ".keras")
        model.fit(x, y, epochs=FIRST_EPOCHS, callbacks=[checkpoint], **fit)
        return
    model.fit(x, y, epochs=EPOCHS, initial_epoch=FIRST_EPOCHS if phase == "resume" else 0, **fit)
    if dist.is_primary():
        np.savez(out + ".npz", *model.get_weights())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
