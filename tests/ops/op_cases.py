"""Gradient-check cases for every differentiable primitive, keyed by the primitive's name.

Each case is ``(function of Tensors, inputs)``; the inputs are float64 arrays (integer arrays are
passed through as labels or indices). Shapes vary and include broadcasting and axis variants.
"""

import numpy as np

import chainrule as cr
from chainrule import ops

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    """Values with |x| >= 0.2, so kinks at 0 are never within a finite-difference step."""
    return rng.uniform(0.2, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((5,), ())]


def _binary(fn, second=randn):
    return [(fn, (randn(*a), second(*b))) for a, b in BINARY_SHAPES]


def _unary(fn, make=randn, shapes=((5,), (3, 4), (2, 3, 2), ())):
    return [(fn, (make(*s),)) for s in shapes]


def _reduction(fn):
    axis_variants = [None, 0, -1, (0, 2)]
    cases = [(lambda a, axis=axis: fn(a, axis=axis), (randn(2, 3, 4),)) for axis in axis_variants]
    cases.append((lambda a: fn(a, axis=1, keepdims=True), (randn(2, 3, 4),)))
    cases.append((lambda a: fn(a), (randn(5),)))
    return cases


CASES = {
    "add": _binary(lambda a, b: a + b),
    "sub": _binary(lambda a, b: a - b),
    "mul": _binary(lambda a, b: a * b),
    "div": _binary(lambda a, b: a / b, second=away_from_zero),
    "neg": _unary(lambda a: -a),
    "pow": [
        (lambda a: a**3, (randn(3, 4),)),
        (lambda a: a**0.5, (positive(5),)),
        (lambda a, b: a**b, (positive(3, 4), randn(4))),
        (lambda b: 2.0**b, (randn(2, 3),)),
    ],
    "matmul": [
        (lambda a, b: a @ b, (randn(3, 4), randn(4, 5))),
        (lambda a, b: a @ b, (randn(2, 3, 4), randn(2, 4, 5))),
        (lambda a, b: a @ b, (randn(2, 3, 4), randn(4, 5))),
        (lambda a, b: a @ b, (randn(3, 4), randn(2, 4, 5))),
        (lambda a, b: a @ b, (randn(4), randn(4, 5))),
        (lambda a, b: a @ b, (randn(3, 4), randn(4))),
        (lambda a, b: a @ b, (randn(4), randn(4))),
    ],
    "linear": [
        (ops.linear, (randn(3, 4), randn(4, 5), randn(5))),
        (ops.linear, (randn(2, 3, 4), randn(4, 2), randn(2))),
        (ops.linear, (randn(4), randn(4, 3), randn(3))),
    ],
    "exp": _unary(cr.exp),
    "log": _unary(cr.log, make=positive),
    "sqrt": _unary(cr.sqrt, make=positive),
    "tanh": _unary(cr.tanh),
    "sigmoid": _unary(cr.sigmoid) + [(cr.sigmoid, (np.array([-30.0, -5.0, 0.3, 5.0, 30.0]),))],
    "relu": _unary(cr.relu, make=away_from_zero),
    "leaky_relu": _unary(cr.leaky_relu, make=away_from_zero)
    + [(lambda a: cr.leaky_relu(a, alpha=0.01), (away_from_zero(3, 3),))],
    "elu": _unary(cr.elu, make=away_from_zero)
    + [(lambda a: cr.elu(a, alpha=0.5), (away_from_zero(3, 3),))],
    "erf": _unary(ops.erf),
    "softplus": _unary(ops.softplus) + [(ops.softplus, (np.array([-40.0, 40.0]),))],
    "abs": _unary(cr.abs, make=away_from_zero),
    "maximum": _binary(cr.maximum),
    "minimum": _binary(cr.minimum),
    "clip": [
        (lambda a: cr.clip(a, -0.5, 0.5), (np.array([-1.2, -0.3, 0.1, 0.4, 0.9]),)),
        (lambda a: cr.clip(a, 0.0, 1.0), (rng.uniform(0.05, 0.95, (3, 4)),)),
    ],
    "where": [
        (lambda a, b: cr.where(np.array([True, False, True]), a, b), (randn(3), randn(3))),
        (lambda a, b, c=randn(2, 3) > 0: cr.where(c, a, b), (randn(2, 3), randn(3))),
        (lambda a, c=randn(4) > 0: cr.where(c, a, 0.0), (randn(2, 4),)),
    ],
    "cast": [(lambda a: cr.cast(a, "float64") * 2, (randn(3, 2),))],
    "sum": _reduction(cr.sum),
    "replica_sum": _unary(ops.replica_sum),  # one replica: the identity
    "mean": _reduction(cr.mean),
    "max": _reduction(cr.max),
    "min": _reduction(cr.min),
    "reshape": [
        (lambda a: a.reshape(4, 3), (randn(3, 4),)),
        (lambda a: a.reshape(-1), (randn(2, 3, 2),)),
    ],
    "transpose": [
        (lambda a: a.T, (randn(3, 4),)),
        (lambda a: a.transpose(1, 0, 2), (randn(2, 3, 4),)),
        (lambda a: a.transpose((2, 0, 1)), (randn(2, 3, 4),)),
    ],
    "swapaxes": [(lambda a: a.mT, (randn(2, 3, 4),))],
    "expand_dims": [
        (lambda a: cr.expand_dims(a, 0), (randn(3),)),
        (lambda a: cr.expand_dims(a, -1), (randn(2, 3),)),
    ],
    "squeeze": [
        (lambda a: cr.squeeze(a), (randn(1, 3, 1),)),
        (lambda a: cr.squeeze(a, 0), (randn(1, 4),)),
    ],
    "broadcast_to": [
        (lambda a: cr.broadcast_to(a, shape=(2, 3, 4)), (randn(3, 1),)),
        (lambda a: cr.broadcast_to(a, shape=(5,)), (randn(),)),
    ],
    "getitem": [
        (lambda a: a[1:3], (randn(4, 3),)),
        (lambda a: a[:, ::-2], (randn(4, 5),)),
        (lambda a: a[np.array([0, 2, 2, 1])], (randn(3, 2),)),
        (lambda a: a[np.array([True, False, True])], (randn(3, 2),)),
        (lambda a: a[1, ..., None], (randn(2, 3, 4),)),
        (lambda a: a[np.arange(3), np.array([1, 0, 1])], (randn(3, 2),)),
    ],
    "gather": [  # indices given as Tensors: inputs of the op
        (lambda a: a[cr.Tensor(np.array([0, 2, 2, 1]))], (randn(3, 2),)),
        (lambda a: a[cr.Tensor(np.array([True, False, True]))], (randn(3, 2),)),
        (lambda a: a[np.arange(3), cr.Tensor(np.array([1, 0, 1]))], (randn(3, 2),)),
        (lambda a: a[cr.Tensor(np.array([[0, 1], [1, 1]])), 1:], (randn(2, 3),)),
        (lambda a: ops.take(a, cr.Tensor(np.array([3, -1, 0])), axis=1), (randn(2, 4),)),
        (lambda a: ops.take_along_axis(a, cr.Tensor(np.array([[2, 0, 0, 1]])), 0), (randn(3, 4),)),
    ],
    "scatter_add": [
        (lambda g: ops.scatter_add(g, index=np.array([0, 2, 0]), shape=(3, 2)), (randn(3, 2),)),
        (lambda g: ops.scatter_add(g, index=slice(1, 3), shape=(4,)), (randn(2),)),
    ],
    "concatenate": [
        (lambda a, b: cr.concatenate([a, b]), (randn(2, 3), randn(4, 3))),
        (
            lambda a, b, c: cr.concatenate([a, b, c], axis=-1),
            (randn(2, 1), randn(2, 3), randn(2, 2)),
        ),
    ],
    "stack": [
        (lambda a, b: cr.stack([a, b]), (randn(2, 3), randn(2, 3))),
        (lambda a, b, c: cr.stack([a, b, c], axis=-1), (randn(4), randn(4), randn(4))),
    ],
    "softmax": [
        (cr.softmax, (randn(4, 5),)),
        (lambda a: cr.softmax(a, axis=0), (randn(3, 2),)),
        (cr.softmax, (randn(2, 3, 4),)),
    ],
    "log_softmax": [
        (cr.log_softmax, (randn(4, 5),)),
        (lambda a: cr.log_softmax(a, axis=0), (randn(3, 2),)),
    ],
    "logsumexp": [
        (cr.logsumexp, (randn(4, 5),)),
        (lambda a: cr.logsumexp(a, axis=0, keepdims=True), (randn(3, 2),)),
        (lambda a: cr.logsumexp(a, axis=(0, 1)), (randn(3, 2),)),
    ],
    "softmax_cross_entropy": [
        (ops.softmax_cross_entropy, (randn(4, 5), rng.dirichlet(np.ones(5), 4))),
        (ops.softmax_cross_entropy, (randn(2, 3, 4), rng.uniform(0, 1, (2, 3, 4)))),
        (lambda z, t: ops.softmax_cross_entropy(z, t, cr.softmax(z)), (randn(4, 5), randn(4, 5))),
        (
            lambda z, t: ops.softmax_cross_entropy(z, t, cr.softmax(z)),
            (
                np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0]]),
                np.array([[0.0, 1.0, 0.0], [1.0, 0, 0]]),
            ),
        ),
    ],
    "mean_softmax_cross_entropy": [
        (ops.mean_softmax_cross_entropy, (randn(4, 5), rng.dirichlet(np.ones(5), 4))),
        (ops.mean_softmax_cross_entropy, (randn(2, 3, 4), rng.uniform(0, 1, (2, 3, 4)))),
        (
            lambda z, t: ops.mean_softmax_cross_entropy(z, t, axis=0),
            (randn(3, 4), rng.uniform(0, 1, (3, 4))),
        ),
        (
            lambda z, t: ops.mean_softmax_cross_entropy(z, t, cr.softmax(z)),
            (randn(6, 3), randn(6, 3)),
        ),
        (
            lambda z, t: ops.mean_softmax_cross_entropy(z, t, cr.softmax(z)),
            (
                np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0]]),
                np.array([[0.0, 1.0, 0.0], [1.0, 0, 0]]),
            ),
        ),
    ],
    "sparse_softmax_cross_entropy": [
        (ops.sparse_softmax_cross_entropy, (randn(4, 5), np.array([0, 4, 2, 2]))),
        (ops.sparse_softmax_cross_entropy, (randn(2, 3, 4), rng.integers(0, 4, (2, 3)))),
    ],
    "sigmoid_cross_entropy": [
        (ops.sigmoid_cross_entropy, (randn(4, 3), rng.uniform(0, 1, (4, 3)))),
        (ops.sigmoid_cross_entropy, (np.array([-40.0, -2.0, 0.5, 40.0]), np.array([1.0, 0, 1, 0]))),
    ],
}


_SAME1 = {"pool_size": 3, "strides": 1, "padding": "same"}  # 3x3 pools, TF's "same" padding
_SAME2 = {"pool_size": 3, "strides": 2, "padding": "same"}


def _distinct(*shape):
    """Values at least 0.05 apart, so a pooling window's maximum is never within a step of a tie."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.05 + rng.uniform(0, 0.01, shape)


CASES.update(
    {
        "conv2d": [
            (ops.conv2d, (randn(2, 5, 5, 3), randn(3, 3, 3, 4))),
            (
                lambda x, k, b: ops.conv2d(x, k, b, strides=2, padding="same"),
                (randn(2, 6, 5, 2), randn(3, 2, 2, 3), randn(3)),
            ),
            (
                lambda x, k: ops.conv2d(x, k, padding="same", dilation_rate=2),
                (randn(1, 7, 6, 2), randn(3, 3, 2, 2)),
            ),
            (
                lambda x, k, b: ops.conv2d(x, k, b, strides=(1, 2), groups=2),
                (randn(2, 5, 6, 4), randn(2, 3, 2, 6), randn(6)),
            ),
            (
                lambda x, k: ops.conv2d(x, k, padding=((1, 0), (2, 1))),
                (randn(1, 4, 4, 1), randn(2, 2, 1, 2)),
            ),
            (
                lambda x, k: ops.conv1d(x, k, padding="causal", dilation_rate=2),
                (randn(2, 7, 3), randn(3, 3, 2)),
            ),
            (  # 8 channels to 2: computed products first, and so are its gradients
                lambda x, k, b: ops.conv2d(x, k, b, padding="same", dilation_rate=(2, 1)),
                (randn(2, 5, 6, 8), randn(3, 2, 8, 2), randn(2)),
            ),
        ],
        "conv2d_backprop_input": [
            (
                lambda g, k: ops.conv2d_backprop_input(g, k, input_shape=(2, 5, 5, 3)),
                (randn(2, 3, 3, 4), randn(3, 3, 3, 4)),
            ),
            (
                lambda g, k: ops.conv2d_backprop_input(
                    g, k, input_shape=(1, 6, 5, 4), strides=2, padding="same", groups=2
                ),
                (randn(1, 3, 3, 6), randn(3, 2, 2, 6)),
            ),
            (  # the gradient of a convolution of 4 channels to 1, through the im2col of g
                lambda g, k: ops.conv2d_backprop_input(g, k, input_shape=(1, 5, 7, 4)),
                (randn(1, 4, 5, 1), randn(2, 3, 4, 1)),
            ),
        ],
        "conv2d_backprop_kernel": [
            (
                lambda x, g: ops.conv2d_backprop_kernel(x, g, kernel_shape=(3, 3, 3, 4)),
                (randn(2, 5, 5, 3), randn(2, 3, 3, 4)),
            ),
            (
                lambda x, g: ops.conv2d_backprop_kernel(
                    x, g, kernel_shape=(3, 3, 2, 2), padding="same", dilation_rate=(2, 1)
                ),
                (randn(1, 6, 5, 2), randn(1, 6, 5, 2)),
            ),
            (
                lambda x, g: ops.conv2d_backprop_kernel(
                    x, g, kernel_shape=(3, 3, 4, 1), padding="same"
                ),
                (randn(2, 5, 5, 4), randn(2, 5, 5, 1)),
            ),
        ],
        "max_pool2d": [
            (ops.max_pool2d, (_distinct(2, 6, 6, 3),)),
            (lambda x: ops.max_pool2d(x, **_SAME2), (_distinct(2, 7, 6, 2),)),
            (lambda x: ops.max_pool2d(x, pool_size=(2, 3), strides=1), (_distinct(1, 5, 5, 2),)),
        ],
        "max_pool2d_backprop": [
            (
                lambda x, g: ops.max_pool2d_backprop(x, ops.max_pool2d(x), g),
                (_distinct(2, 6, 6, 2), randn(2, 3, 3, 2)),
            ),
            (
                lambda x, g: ops.max_pool2d_backprop(x, ops.max_pool2d(x, **_SAME1), g, **_SAME1),
                (_distinct(1, 5, 4, 2), randn(1, 5, 4, 2)),
            ),
        ],
        "max_pool2d_gather": [
            (
                lambda x, u: ops.max_pool2d_gather(x, ops.max_pool2d(x), u),
                (_distinct(2, 6, 6, 2), randn(2, 6, 6, 2)),
            ),
            (
                lambda x, u: ops.max_pool2d_gather(x, ops.max_pool2d(x, **_SAME2), u, **_SAME2),
                (_distinct(1, 5, 6, 2), randn(1, 5, 6, 2)),
            ),
        ],
        "avg_pool2d": [
            (ops.avg_pool2d, (randn(2, 6, 7, 3),)),
            (
                lambda x: ops.avg_pool2d(x, pool_size=3, strides=2, padding="same"),
                (randn(2, 7, 6, 2),),
            ),
            (lambda x: ops.avg_pool2d(x, pool_size=(2, 3), strides=1), (randn(1, 5, 5, 2),)),
        ],
        "avg_pool2d_backprop": [
            (lambda g: ops.avg_pool2d_backprop(g, input_shape=(2, 6, 7, 3)), (randn(2, 3, 3, 3),)),
            (
                lambda g: ops.avg_pool2d_backprop(
                    g, input_shape=(1, 5, 6, 2), pool_size=3, strides=2, padding="same"
                ),
                (randn(1, 3, 3, 2),),
            ),
        ],
    }
)


def _gather_area_cases():
    """Add the cases kept in ``cases_<area>.py`` files next to this one, each a ``CASES`` dict."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("cases_*.py")):
        area = importlib.import_module(path.stem).CASES
        clash = set(area) & set(CASES)
        assert not clash, f"{path.name} repeats cases for {sorted(clash)}"
        CASES.update(area)


_gather_area_cases()
