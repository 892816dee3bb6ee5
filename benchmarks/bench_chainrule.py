"""chainrule: the article's program with ``import chainrule as tf`` (see keras_program.py)."""

import time

_began = time.perf_counter()  # the framework's import, first in a fresh interpreter
import chainrule

IMPORT_SECONDS = time.perf_counter() - _began

from common import load_mnist, openblas_backend, parse_args, write_result
from keras_program import train_and_test


def main():
    args = parse_args(__doc__)
    data = load_mnist(args.data)
    clock, accuracy, logs = train_and_test(chainrule.keras, args.config, data, args.seed)
    write_result(
        args,
        "chainrule",
        chainrule.__version__,
        IMPORT_SECONDS,
        clock,
        len(data["x_train"]),
        accuracy,
        logs,
        openblas_backend(),
    )


if __name__ == "__main__":
    main()
