"""JAX (CPU): a jitted train step with hand-written SGD and Adam (Keras's formulas).

One ``jax.jit`` function gathers the batch from the device-resident training set, computes the
loss -mean(sum(y * log_softmax(z))) and its gradient with ``jax.value_and_grad``, and updates the
weights, which are donated so that XLA updates them in place. The per-step loss and hit count stay
on the device until the epoch ends. The kernels start from the NumPy reference's glorot draw.
"""

import time

_began = time.perf_counter()  # the framework's import, first in a fresh interpreter
import jax

IMPORT_SECONDS = time.perf_counter() - _began

import jax.numpy as jnp
import numpy as np
import numpy_loop
from common import CLASSES, PIXELS, EpochClock, load_mnist, parse_args, write_result

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7


def logits(params, x):
    a = x
    for i in range(0, len(params) - 2, 2):
        a = jax.nn.relu(a @ params[i] + params[i + 1])
    return a @ params[-2] + params[-1]


def loss_fn(params, x, y):
    z = logits(params, x)
    return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(z), axis=1)), z


def sgd(params, grads, state, learning_rate):
    return [w - learning_rate * g for w, g in zip(params, grads)], state


def adam(params, grads, state, learning_rate):
    """m <- m + (1-β1)(g-m), v <- v + (1-β2)(g²-v), w <- w - η√(1-β2^t)/(1-β1^t) m/(√v+ε)."""
    t, ms, vs = state
    t = t + 1
    alpha = learning_rate * jnp.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
    ms = [m + (1 - BETA_1) * (g - m) for m, g in zip(ms, grads)]
    vs = [v + (1 - BETA_2) * (g * g - v) for v, g in zip(vs, grads)]
    params = [w - alpha * m / (jnp.sqrt(v) + EPSILON) for w, m, v in zip(params, ms, vs)]
    return params, (t, ms, vs)


def make_train_step(update, learning_rate):
    def train_step(params, state, x, y, index):
        xb, yb = x[index], y[index]
        (loss, z), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, xb, yb)
        params, state = update(params, grads, state, learning_rate)
        correct = jnp.sum(jnp.argmax(z, axis=1) == jnp.argmax(yb, axis=1))
        return params, state, loss * len(index), correct

    return jax.jit(train_step, donate_argnums=(0, 1))


def main():
    args = parse_args(__doc__)
    config = args.config
    data = load_mnist(args.data)
    rng = np.random.default_rng(args.seed)
    params = [
        jnp.asarray(p) for p in numpy_loop.init_params(rng, (PIXELS, *config["hidden"], CLASSES))
    ]
    if config["optimizer"] == "adam":
        update = adam
        state = (
            jnp.zeros((), jnp.float32),
            [jnp.zeros_like(p) for p in params],
            [jnp.zeros_like(p) for p in params],
        )
    else:
        update, state = sgd, ()
    train_step = make_train_step(update, config["learning_rate"])
    x, y = jnp.asarray(data["x_train"]), jnp.asarray(data["y_train"])
    n, batch_size = len(x), config["batch_size"]
    clock = EpochClock()
    for _ in range(config["epochs"]):
        clock.start()
        losses, hits = [], []
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            params, state, loss, correct = train_step(
                params, state, x, y, order[start : start + batch_size]
            )
            losses.append(loss)
            hits.append(correct)
        logs = {
            "loss": float(jnp.sum(jnp.stack(losses))) / n,
            "accuracy": float(jnp.sum(jnp.stack(hits))) / n,
        }
        clock.stop()
    predicted = np.asarray(jax.jit(logits)(params, jnp.asarray(data["x_test"]))).argmax(1)
    accuracy = np.mean(predicted == data["labels_test"])
    backend = {"devices": ", ".join(str(d) for d in jax.devices())}
    write_result(
        args,
        "jax",
        jax.__version__,
        IMPORT_SECONDS,
        clock,
        len(data["x_train"]),
        accuracy,
        logs,
        backend,
    )


if __name__ == "__main__":
    main()
