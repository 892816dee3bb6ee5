"""The article's program for a few epochs with chainrule alone: samples per second, quickly.

    python benchmarks/seed_mlp.py [--epochs 3]

For the comparison with TensorFlow, PyTorch, JAX and a hand-written NumPy loop, use run.py.
"""

import argparse
import time

import chainrule as tf
from chainrule.keras.callbacks import Callback
from chainrule.keras.layers import Dense
from chainrule.keras.models import Sequential


class EpochTimes(Callback):
    """Wall-clock seconds of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train, x_test = x_train.reshape(-1, 784) / 255.0, x_test.reshape(-1, 784) / 255.0
    y_train = tf.keras.utils.to_categorical(y_train, 10)
    y_test = tf.keras.utils.to_categorical(y_test, 10)
    model = Sequential(
        [Dense(10, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    times = EpochTimes()
    model.fit(x_train, y_train, epochs=args.epochs, verbose=0, callbacks=[times])
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    for epoch, seconds in enumerate(times.seconds, 1):
        print(f"epoch {epoch}: {seconds:.3f} s, {len(x_train) / seconds:,.0f} samples/s")
    print(f"test accuracy after {args.epochs} epochs: {accuracy:.4f}")


if __name__ == "__main__":
    main()
