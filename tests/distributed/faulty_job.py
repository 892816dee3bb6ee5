"""Jobs that go wrong, run by test_distributed.py under ``mpiexec -n 2``:

raise     rank 1 raises in the middle of training
kill      rank 1 is killed (SIGKILL) in the middle of training
mismatch  rank 1 builds a wider layer than rank 0
"""

import os
import signal
import sys

import numpy as np

import chainrule.distributed as dist
import chainrule.keras as keras


class Fault(keras.callbacks.Callback):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def on_train_batch_end(self, batch, logs=None):
        if dist.rank() == 1 and batch == 3:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("the disk is full")


def main(how):
    dist.init()
    width = 9 if how == "mismatch" and dist.rank() == 1 else 8
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(width), keras.layers.Dense(1)])
    model.compile(optimizer=dist.DistributedOptimizer(keras.optimizers.SGD()), loss="mse")
    x = np.ones((4000, 5), "float32")
    callbacks = [dist.BroadcastGlobalVariablesCallback(0), Fault(how)]
    model.fit(x, x[:, :1], batch_size=8, epochs=50, verbose=0, callbacks=callbacks)


if __name__ == "__main__":
    main(sys.argv[1])
