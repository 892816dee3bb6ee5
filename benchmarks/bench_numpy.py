"""The reference: the hand-written NumPy loop of numpy_loop.py."""

import time

_began = time.perf_counter()  # the framework's import, first in a fresh interpreter
import numpy as np

IMPORT_SECONDS = time.perf_counter() - _began

import numpy_loop
from common import EpochClock, load_mnist, openblas_backend, parse_args, write_result


def main():
    args = parse_args(__doc__)
    data = load_mnist(args.data)
    config = args.config
    clock = EpochClock()
    logs = {}

    def on_epoch_end(epoch, loss, accuracy):
        clock.stop()
        logs.update(loss=loss, accuracy=accuracy)
        clock.start()

    clock.start()
    params = numpy_loop.train(
        data["x_train"],
        data["y_train"],
        config["epochs"],
        hidden=config["hidden"],
        optimizer=config["optimizer"],
        learning_rate=config["learning_rate"],
        batch_size=config["batch_size"],
        seed=args.seed,
        on_epoch_end=on_epoch_end,
    )
    predicted = numpy_loop.logits(params, data["x_test"]).argmax(1)
    accuracy = np.mean(predicted == data["labels_test"])
    write_result(
        args,
        "numpy loop",
        np.__version__,
        IMPORT_SECONDS,
        clock,
        len(data["x_train"]),
        accuracy,
        logs,
        openblas_backend(),
    )


if __name__ == "__main__":
    main()
