"""The reference: the article's network trained by a hand-written NumPy loop.

Dense(10, relu) -> Dense(10, softmax), categorical cross-entropy, SGD 0.01, batch 32, glorot
uniform kernels, a fresh permutation per epoch. Buffers are preallocated and the softmax +
cross-entropy gradient is fused: dL/dz = (softmax(z) - y) / n. This is what a framework's
per-step overhead is measured against.
"""

import numpy as np


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def train(x, y_onehot, epochs, hidden=10, learning_rate=0.01, batch_size=32, seed=0,
          on_epoch_end=None):
    """Train and return (W1, b1, W2, b2); ``on_epoch_end(epoch, loss, accuracy)`` is called."""
    rng = np.random.default_rng(seed)
    n, features = x.shape
    classes = y_onehot.shape[1]
    w1, b1 = glorot(rng, features, hidden), np.zeros(hidden, np.float32)
    w2, b2 = glorot(rng, hidden, classes), np.zeros(classes, np.float32)
    labels = y_onehot.argmax(1)
    for epoch in range(epochs):
        order = rng.permutation(n)
        total_loss = total_correct = 0.0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            xb, yb = x.take(index, axis=0), y_onehot.take(index, axis=0)
            m = len(index)
            z1 = xb @ w1
            z1 += b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ w2
            z2 += b2
            z2 -= z2.max(axis=1, keepdims=True)
            e = np.exp(z2)
            s = e.sum(axis=1, keepdims=True)
            p = e / s
            total_loss += float(np.log(s).sum() - (yb * z2).sum())
            total_correct += int(np.count_nonzero(p.argmax(1) == labels[index]))
            dz2 = (p - yb) / m
            dw2 = a1.T @ dz2
            db2 = dz2.sum(0)
            da1 = dz2 @ w2.T
            da1 *= z1 > 0
            dw1 = xb.T @ da1
            db1 = da1.sum(0)
            w1 -= learning_rate * dw1
            b1 -= learning_rate * db1
            w2 -= learning_rate * dw2
            b2 -= learning_rate * db2
        if on_epoch_end is not None:
            on_epoch_end(epoch, total_loss / n, total_correct / n)
    return w1, b1, w2, b2
