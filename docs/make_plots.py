"""Draw the PNGs of docs/ again: `python docs/make_plots.py [training] [gradient_flow] [sigmoid]`
(all three without arguments), from the repository root, with the `plot` extra installed.

- training.png: `chainrule train --seed 0`, the README's default run (10 epochs of the article's
  network on MNIST).
- gradient_flow.png: `chainrule train --explain --epochs 5 --seed 0`.
- gradient_flow_sigmoid.png: nine Dense layers, eight Dense(32, sigmoid) and Dense(10, softmax),
  trained with SGD for 5 epochs on 4,000 MNIST images, measured every 5 steps on 256 of them.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from chainrule.keras import Sequential
from chainrule.keras.backend import clear_session
from chainrule.keras.callbacks import GradientFlow
from chainrule.keras.datasets import mnist
from chainrule.keras.layers import Dense
from chainrule.keras.utils import set_random_seed, to_categorical
from chainrule.tools.cli import main
from chainrule.tools.plot import plot_gradient_flow

DOCS = Path(__file__).resolve().parent


def from_the_command_line(name, arguments):
    """Run `chainrule train` with `arguments` in a scratch folder and keep its `name`."""
    with tempfile.TemporaryDirectory() as scratch:
        main(["train", "--quiet", "--out", scratch] + arguments)
        shutil.copyfile(Path(scratch) / name, DOCS / name)


def sigmoid():
    set_random_seed(0)
    (x_train, y_train), _ = mnist.load_data()
    x = x_train[:4000].reshape(-1, 784).astype("float32") / 255
    y = to_categorical(y_train[:4000], 10)
    model = Sequential(
        [Dense(32, activation="sigmoid", input_shape=(784,))]
        + [Dense(32, activation="sigmoid") for _ in range(7)]
        + [Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    flow = GradientFlow(x[:256], y[:256], every=5)
    model.fit(x, y, batch_size=32, epochs=5, verbose=0, callbacks=[flow])
    title = "9 Dense layers, sigmoid: the gradient fades towards the input"
    plot_gradient_flow(flow, DOCS / "gradient_flow_sigmoid.png", title=title)


IMAGES = {
    "training": lambda: from_the_command_line("training.png", ["--seed", "0"]),
    "gradient_flow": lambda: from_the_command_line(
        "gradient_flow.png", ["--explain", "--epochs", "5", "--seed", "0"]
    ),
    "sigmoid": sigmoid,
}

if __name__ == "__main__":
    for image in sys.argv[1:] or IMAGES:
        clear_session()  # each image names its layers from dense, as a fresh process would
        IMAGES[image]()
