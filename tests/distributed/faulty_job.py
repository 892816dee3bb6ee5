"""Jobs that go wrong, run by test_distributed.py under ``mpiexec -n 2``:

raise               rank 1 raises in the middle of training
kill                rank 1 is killed (SIGKILL) in the middle of training
mismatch            rank 1 builds a wider layer than rank 0
kill-while-saving   rank 1 is killed after batch 3 while rank 0 checkpoints every batch
kill-the-writer     rank 0 is killed halfway through writing its third checkpoint

    mpiexec -n 2 python faulty_job.py HOW [CHECKPOINT]

With CHECKPOINT, rank 0's ModelCheckpoint saves to that file after every batch.
"""

import os
import signal
import sys
import zipfile

import numpy as np

import chainrule.distributed as dist
import chainrule.keras as keras


class Fault(keras.callbacks.Callback):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def on_train_batch_end(self, batch, logs=None):
        if dist.rank() == 1 and batch == 3 and self.how != "kill-the-writer":
            if self.how.startswith("kill"):
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("the disk is full")


def kill_inside_the_third_save():
    """Make this process write half of the weights of its third checkpoint, then die."""
    write = zipfile.ZipFile.writestr
    saves = []

    def write_then_die(archive, name, data, *args, **kwargs):
        if name == "model.weights.h5":
            saves.append(name)
            if len(saves) == 3:
                archive.fp.write(data[: len(data) // 2])
                archive.fp.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        return write(archive, name, data, *args, **kwargs)

    zipfile.ZipFile.writestr = write_then_die


def main(how, checkpoint=None):
    dist.init()
    if how == "kill-the-writer" and dist.rank() == 0:
        kill_inside_the_third_save()
    width = 9 if how == "mismatch" and dist.rank() == 1 else 8
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(width), keras.layers.Dense(1)])
    model.compile(optimizer=dist.DistributedOptimizer(keras.optimizers.SGD()), loss="mse")
    x = np.ones((4000, 5), "float32")
    callbacks = [dist.BroadcastGlobalVariablesCallback(0), Fault(how)]
    if checkpoint and dist.is_primary():  # a script with Horovod's names writes on rank 0 only
        callbacks.append(keras.callbacks.ModelCheckpoint(checkpoint, save_freq=1))
    model.fit(x, x[:, :1], batch_size=8, epochs=50, verbose=0, callbacks=callbacks)


if __name__ == "__main__":
    main(*sys.argv[1:])
