"""`chainrule explain`: one training step of the article's network (or a tiny one, or a saved
model), each gradient computed by the textbook formula, by the engine and by finite differences."""

import warnings

import numpy as np

from ...keras.layers import Dense, Input
from ...keras.models import Sequential
from ...keras.utils import set_random_seed, to_categorical
from ..explain import explain
from . import digits
from .arguments import EXIT_ERROR
from .digits import NUM_CLASSES


def explain_command(args):
    """`chainrule explain`: one training step, each gradient by textbook, engine and finite
    differences; exit status 1 if they disagree."""
    set_random_seed(args.seed)
    if args.tiny:
        model, x, y = _tiny_problem(args.seed)
    else:
        model, x, y = _mnist_problem(args.model, args.batch_size)
    with warnings.catch_warnings():
        # the report ends with the disagreement in words and the exit status is 1: explain's
        # RuntimeWarning, for programs, would only repeat it above the report
        warnings.filterwarnings("ignore", r"explain: .* disagree", RuntimeWarning)
        report = explain(
            model, x, y, samples=None if args.tiny else args.samples, seed=args.seed, verbose=False
        )
    report.render(matrices=args.tiny)
    return 0 if report.agrees else EXIT_ERROR


def _tiny_problem(seed):
    """A 4-3-2 network (relu, softmax) on 4 made-up samples of 4 features with one-hot labels of
    2 classes. Weights and inputs are rounded, to follow the arithmetic by hand, and drawn again
    while a pre-activation z of the relu layer lies within 0.05 of 0, ReLU's kink, where it has
    no derivative to check."""
    rng = np.random.default_rng(seed)
    model = Sequential(
        [Input(shape=(4,)), Dense(3, activation="relu"), Dense(2, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    while True:
        weights = [rng.uniform(-1, 1, w.shape).round(2) for w in model.get_weights()]
        x = rng.uniform(-1, 1, (4, 4)).round(1)
        if np.abs(x @ weights[0] + weights[1]).min() >= 0.05:
            break
    model.set_weights(weights)
    return model, x, to_categorical(rng.integers(0, 2, 4), 2)


def _mnist_problem(path, batch_size):
    """The article's model (or the saved one at `path`) and the first `batch_size` training
    digits, shaped for the model, with labels as its loss takes them."""
    if path is None:
        model = digits.dense_network((10,))
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    else:
        model = digits.read_model(path)
    x, labels = digits.mnist_training_batch(batch_size)
    if path is None:
        return model, x, to_categorical(labels, NUM_CLASSES)
    if not getattr(model, "compiled", False) or getattr(model, "_loss_object", None) is None:
        print(
            "The saved model has no compiled loss: explaining it with sgd and "
            "categorical_crossentropy."
        )
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    sample_shape = digits.sample_shape(model)
    sparse = "sparse" in getattr(model._loss_object, "name", "")
    return (
        model,
        x.reshape((len(x),) + sample_shape),
        (labels if sparse else to_categorical(labels, NUM_CLASSES)),
    )
