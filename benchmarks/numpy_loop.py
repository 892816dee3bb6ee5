"""The reference: a ReLU network trained by a hand-written NumPy loop.

    x (n, 784) -> [Dense(h, relu)] * k -> Dense(10) -> softmax,  categorical cross-entropy

with glorot uniform kernels, zero biases, a fresh permutation per epoch and plain mini-batch
steps. The softmax + cross-entropy gradient is fused, dL/dz = (softmax(z) - y) / m for a batch of
m, and the ReLU runs in place, so its output doubles as the mask of its gradient. The optimizer's
state is preallocated and updated in place. This is what a framework's per-step overhead is
measured against:

- the article's network: ``hidden=(10,)``, SGD with η = 0.01, batch 32;
- the wide network: ``hidden=(512, 512)``, Adam with η = 0.001, batch 128.
"""

import itertools

import numpy as np


def glorot(rng, fan_in, fan_out):
    """W ~ U(-l, l), l = sqrt(6 / (fan_in + fan_out)), shape (fan_in, fan_out), float32."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


class SGD:
    """w <- w - η g."""

    def __init__(self, params, learning_rate=0.01):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        for w, g in zip(params, grads):
            g *= self.learning_rate
            w -= g


class Adam:
    """Keras's Adam: with t counted from 1,

    m <- m + (1 - β1)(g - m),   v <- v + (1 - β2)(g² - v)
    w <- w - η sqrt(1 - β2^t) / (1 - β1^t) · m / (sqrt(v) + ε)
    """

    def __init__(self, params, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = (
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
        )
        self.m = [np.zeros_like(w) for w in params]
        self.v = [np.zeros_like(w) for w in params]
        self.scratch = [np.empty_like(w) for w in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        alpha = self.learning_rate * np.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        for w, g, m, v, s in zip(params, grads, self.m, self.v, self.scratch):
            np.subtract(g, m, out=s)
            s *= 1 - self.beta_1
            m += s
            np.square(g, out=s)
            s -= v
            s *= 1 - self.beta_2
            v += s
            np.sqrt(v, out=s)
            s += self.epsilon
            np.divide(m, s, out=s)
            s *= alpha
            w -= s


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def init_params(rng, sizes):
    """[W1, b1, ..., Wk, bk] for layer sizes (784, h1, ..., 10): glorot kernels, zero biases."""
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params += [glorot(rng, fan_in, fan_out), np.zeros(fan_out, np.float32)]
    return params


def logits(params, x):
    """The network's output before the softmax, (n, 10), for inputs x (n, 784)."""
    a = x
    for i in range(0, len(params), 2):
        a = a @ params[i] + params[i + 1]
        if i + 2 < len(params):
            np.maximum(a, 0, out=a)
    return a


def train(
    x,
    y_onehot,
    epochs,
    hidden=(10,),
    optimizer="sgd",
    learning_rate=0.01,
    batch_size=32,
    seed=0,
    on_epoch_end=None,
):
    """Train and return [W1, b1, ..., Wk, bk]; ``on_epoch_end(epoch, loss, accuracy)`` is called.

    Args:
        x: (n, features) float32 inputs; y_onehot: (n, classes) float32 one-hot labels.
        hidden: the hidden ReLU layers' sizes; optimizer: 'sgd' or 'adam'.
    """
    rng = np.random.default_rng(seed)
    n, features = x.shape
    classes = y_onehot.shape[1]
    params = init_params(rng, (features, *hidden, classes))
    update = OPTIMIZERS[optimizer](params, learning_rate=learning_rate)
    labels = y_onehot.argmax(1)
    for epoch in range(epochs):
        order = rng.permutation(n)
        total_loss = total_correct = 0.0
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            xb, yb = x.take(index, axis=0), y_onehot.take(index, axis=0)
            m = len(index)
            activations = [xb]  # the input, then each hidden layer's ReLU output
            for i in range(0, len(params) - 2, 2):
                z = activations[-1] @ params[i]
                z += params[i + 1]
                np.maximum(z, 0, out=z)
                activations.append(z)
            z = activations[-1] @ params[-2]
            z += params[-1]
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            p = e / s
            total_loss += float(np.log(s).sum() - (yb * z).sum())
            total_correct += int(np.count_nonzero(p.argmax(1) == labels[index]))
            dz = (p - yb) / m
            grads = [None] * len(params)
            for i in range(len(params) - 2, -1, -2):
                a = activations[i // 2]
                grads[i], grads[i + 1] = a.T @ dz, dz.sum(0)
                if i:
                    dz = dz @ params[i].T
                    dz *= a > 0
            update.step(params, grads)
        if on_epoch_end is not None:
            on_epoch_end(epoch, total_loss / n, total_correct / n)
    return params
