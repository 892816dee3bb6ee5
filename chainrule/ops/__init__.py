"""Every primitive, importable as ``chainrule.ops.<name>`` (and re-exported by ``chainrule``)."""

from .conv import conv1d, conv2d, conv2d_backprop_input, conv2d_backprop_kernel
from .decompositions import (
    cholesky,
    det,
    eig,
    eigh,
    inv,
    logabsdet,
    lstsq,
    lu_factor,
    matrix_rank,
    pinv,
    qr,
    solve,
    solve_triangular,
    svd,
)
from .elementwise import (
    abs,
    add,
    cast,
    clip,
    div,
    elu,
    equal,
    erf,
    exp,
    greater,
    greater_equal,
    leaky_relu,
    less,
    less_equal,
    log,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    relu,
    sigmoid,
    sign,
    softplus,
    sqrt,
    sub,
    tanh,
    where,
)
from .linalg import linear, matmul
from .nn import (
    log_softmax,
    logsumexp,
    mean_softmax_cross_entropy,
    one_hot,
    sigmoid_cross_entropy,
    softmax,
    softmax_cross_entropy,
    sparse_softmax_cross_entropy,
)
from .pooling import (
    avg_pool2d,
    avg_pool2d_backprop,
    max_pool2d,
    max_pool2d_backprop,
    max_pool2d_gather,
)
from .reduction import argmax, argmin, max, mean, min, sum
from .segments import segment_reduce
from .shape import (
    broadcast_to,
    expand_dims,
    getitem,
    reshape,
    scatter_add,
    squeeze,
    swapaxes,
    transpose,
)
from .shape import concatenate as _concatenate
from .shape import stack as _stack
from .spectral import fft, irfft, rfft


def concatenate(tensors, axis=0):
    """Join a sequence of tensors along an existing ``axis`` (see the ``concatenate`` primitive)."""
    return _concatenate(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Stack a sequence of tensors along a new ``axis`` (see the ``stack`` primitive)."""
    return _stack(*tensors, axis=axis)
