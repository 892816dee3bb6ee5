"""Every primitive, importable as ``chainrule.ops.<name>`` (and re-exported by ``chainrule``)."""

from .bitwise import bitwise_and, bitwise_or, bitwise_xor, floor_divide, invert, round
from .conv import conv1d, conv2d, conv2d_backprop_input, conv2d_backprop_kernel
from .ctc import ctc_beam_search_decode, ctc_greedy_decode, ctc_loss, ctc_loss_gradient
from .custom import custom_vjp
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
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cast,
    cbrt,
    ceil,
    clip,
    cos,
    cosh,
    div,
    elu,
    equal,
    erf,
    exp,
    expm1,
    floor,
    greater,
    greater_equal,
    isfinite,
    isinf,
    isnan,
    leaky_relu,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    relu,
    sigmoid,
    sign,
    signbit,
    sin,
    sinh,
    softplus,
    sqrt,
    stop_gradient,
    sub,
    tan,
    tanh,
    trunc,
    where,
)
from .indexing import (
    diagonal,
    flip,
    pad_by_index,
    repeat,
    roll,
    take,
    take_along_axis,
    tile,
    tril,
    triu,
)
from .linalg import einsum as _einsum
from .linalg import linear, matmul, tensordot
from .nn import (
    log_softmax,
    logsumexp,
    mean_softmax_cross_entropy,
    one_hot,
    polar,
    sigmoid_cross_entropy,
    softmax,
    softmax_cross_entropy,
    sparse_softmax_cross_entropy,
    sparsemax,
)
from .pooling import (
    avg_pool2d,
    avg_pool2d_backprop,
    max_pool2d,
    max_pool2d_backprop,
    max_pool2d_gather,
)
from .reduction import (
    all,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    max,
    mean,
    min,
    prod,
    sum,
)
from .replicas import replica_sum, sum_replicas_with
from .segments import segment_reduce
from .shape import (
    broadcast_to,
    expand_dims,
    getitem,
    pad,
    reshape,
    scatter_add,
    squeeze,
    swapaxes,
    transpose,
)
from .shape import concatenate as _concatenate
from .shape import stack as _stack
from .sorting import argsort, sort
from .spectral import fft, irfft, rfft


def concatenate(tensors, axis=0):
    """Join a sequence of tensors along an existing ``axis`` (see the ``concatenate`` primitive)."""
    return _concatenate(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Stack a sequence of tensors along a new ``axis`` (see the ``stack`` primitive)."""
    return _stack(*tensors, axis=axis)


def einsum(subscripts, *operands):
    """The Einstein sum of ``operands`` by ``subscripts`` (see the ``einsum`` primitive)."""
    return _einsum(*operands, subscripts=subscripts)
