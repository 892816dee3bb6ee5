"""Keras 3 on TensorFlow (CPU): the article's program as written (see keras_program.py)."""

import time

_began = time.perf_counter()  # the framework's import, first in a fresh interpreter
import tensorflow as tf

IMPORT_SECONDS = time.perf_counter() - _began

from common import load_mnist, parse_args, write_result
from keras_program import train_and_test


def main():
    args = parse_args(__doc__)
    data = load_mnist(args.data)
    clock, accuracy, logs = train_and_test(tf.keras, args.config, data, args.seed)
    backend = {  # 0 means TensorFlow's default: one thread per core
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }
    version = f"{tf.__version__} (keras {tf.keras.__version__})"
    write_result(
        args,
        "keras/tensorflow",
        version,
        IMPORT_SECONDS,
        clock,
        len(data["x_train"]),
        accuracy,
        logs,
        backend,
    )


if __name__ == "__main__":
    main()
