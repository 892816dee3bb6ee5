"""Conversion to Tensors and Keras 3's dtype promotion.

``convert_to_tensor`` turns what a user passes (a Tensor, an ndarray, a Python scalar or list)
into a Tensor: Python floats become ``floatx()`` (float32), Python ints int32, bools bool, and
arrays keep their dtype. ``result_type`` is the dtype Keras 3 gives an op on the given inputs.

Keras 3 promotes on a lattice (the one JAX uses), not by NumPy's table. Every dtype sits on a
directed graph whose edges point to the next wider dtype:

    bool -> int -> uint8 -> uint16 -> uint32 -> uint64 -> float
                -> int8 -> int16 -> int32 -> int64 -> float
    uint8 -> int16,  uint16 -> int32,  uint32 -> int64
    float -> float16 | bfloat16 -> float32 -> float64

``int`` and ``float`` are the weak types of Python scalars: they join a tensor's dtype without
widening it (an int8 tensor plus 1 stays int8; an int32 tensor plus 1.5 becomes float32). The
result of several dtypes is their least upper bound on this graph (int8 with uint8 gives int16,
float16 with float32 gives float32). A weak result alone resolves to int32 or float32.

Keras's JAX and NumPy backends then narrow 64-bit results to 32 bits; chainrule keeps float64
and int64 (as Keras's TensorFlow backend does), so that gradients can be checked in float64.
"""

import functools

import numpy as np

from ...engine import Tensor
from ...ops.shape import stack
from .. import config

_BOOL, _INT, _FLOAT = "bool", "int", "float"  # ``int``/``float``: the weak Python-scalar types

# each dtype -> the dtypes immediately above it
_LATTICE = {
    "bool": (_INT,),
    _INT: ("uint8", "int8"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": (_FLOAT,),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": (_FLOAT,),
    _FLOAT: ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64",),
    "float64": (),
}


def _upper_bounds():
    """dtype -> the set of dtypes at or above it (its transitive closure on the lattice)."""
    bounds = {}
    for start in _LATTICE:
        seen, todo = {start}, [start]
        while todo:
            for above in _LATTICE[todo.pop()]:
                if above not in seen:
                    seen.add(above)
                    todo.append(above)
        bounds[start] = seen
    return bounds


_UPPER = _upper_bounds()


@functools.lru_cache(maxsize=256)
def _least_upper_bound(nodes):
    """The smallest dtype above every one of ``nodes`` (a frozenset of lattice names)."""
    common = set.intersection(*(_UPPER[n] for n in nodes))
    least = [c for c in common if common <= _UPPER[c]]
    return least[0]


def standardize_dtype(dtype):
    """The dtype's Keras name: ``"float32"``, ``"int32"``, ``"bool"``...

    None gives ``floatx()`` (float32); the Python types ``float``, ``int`` and ``bool`` give
    float32, int32 and bool, and so does the name ``"int"`` (int32); NumPy dtypes and types and
    anything with a ``.dtype`` give that dtype's name. A string must be a Keras name: NumPy's
    aliases ("double", "f4", "float") are refused, as Keras refuses them.
    """
    if isinstance(dtype, (Tensor, np.ndarray, np.generic)):
        dtype = dtype.dtype
    if dtype is None or dtype is float:
        return config.floatx()
    if dtype is int or (isinstance(dtype, str) and dtype == "int"):
        return "int32"
    if dtype is bool:
        return "bool"
    if isinstance(dtype, str) and dtype == "bfloat16":
        raise ValueError(
            "Invalid dtype: 'bfloat16' has no NumPy type, so chainrule does not provide it; "
            "use 'float16' or 'float32'"
        )
    if isinstance(dtype, str) and (dtype not in _LATTICE or dtype in (_INT, _FLOAT)):
        raise ValueError(
            f"Invalid dtype: {dtype!r}; expected a Keras dtype name such as 'float32', 'int64', "
            f"'uint8' or 'bool'"
        )
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}; expected a name like 'float32'") from None
    if np.dtype(name).kind == "c":
        raise TypeError(
            f"chainrule has no complex dtypes (got {name}); use real-valued tensors, or split "
            f"the data into real and imaginary parts"
        )
    return name


def _lattice_node(value):
    """(the lattice name of ``value``'s dtype, whether it is weak)."""
    if isinstance(value, bool) or value is bool:
        return "bool", False
    if value is int or (isinstance(value, int) and not isinstance(value, np.integer)):
        return _INT, True
    if value is float or (isinstance(value, float) and not isinstance(value, np.floating)):
        return _FLOAT, True
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        return standardize_dtype(value.dtype), False
    if isinstance(value, (list, tuple)):
        return standardize_dtype(convert_to_tensor(value).dtype), False
    name = standardize_dtype(value)
    if name not in _LATTICE:
        raise ValueError(f"result_type: {name} has no place in Keras's type promotion")
    return name, False


def result_type(*values):
    """The dtype Keras 3 gives an op on ``values``: Tensors, arrays, dtypes (or their names),
    Python types (``int``/``float``, weak) or Python scalars (weak as well).

    Examples: (int32 tensor, 1.5) -> float32; (float16, float32) -> float32; (int8, uint8) ->
    int16; (bool, int) -> int32; (uint8, 1) -> uint8; () -> floatx.
    """
    if not values:
        return config.floatx()
    nodes = [_lattice_node(config.floatx() if v is None else v) for v in values]
    names = frozenset(n for n, _ in nodes)
    if len(names) == 1:
        name = next(iter(names))
        weak = all(w for _, w in nodes)
    else:
        name = _least_upper_bound(names)
        weak = name in (_INT, _FLOAT)
    if name == _INT or (weak and name.startswith("int")):
        return "int32"
    if name == _FLOAT or (weak and name.startswith("float")):
        return config.floatx()
    return name


def convert_to_tensor(x, dtype=None):
    """``x`` as a Tensor (the same Tensor when it already is one and ``dtype`` agrees).

    Python floats (and lists holding any float) become float32, Python ints int32, Python
    bools bool; ndarrays, NumPy scalars and Tensors keep their dtype unless ``dtype`` is given.
    """
    if dtype is not None:
        dtype = standardize_dtype(dtype)
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else x.astype(dtype)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(x)):
        parts = [convert_to_tensor(v) for v in x]  # stacked by a primitive: gradients flow
        dtype = dtype or result_type(*parts)
        return stack(*[convert_to_tensor(p, dtype) for p in parts], axis=0)
    if dtype is None and not isinstance(x, (np.ndarray, np.generic)):
        array = np.asarray(x)
        if array.dtype.kind == "c":
            standardize_dtype(array.dtype)  # raises the clear error
        if array.dtype.kind == "f":
            dtype = config.floatx()
        elif array.dtype.kind in "iu":
            dtype = "int32"
        return Tensor(array, dtype=dtype)
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "c":
        standardize_dtype(x.dtype)
    if dtype is not None and not isinstance(x, (np.ndarray, np.generic)):
        # Python numbers convert as Keras's backends do: -1 as uint8 wraps around to 255
        return Tensor(np.asarray(x).astype(dtype))
    return Tensor(x, dtype=dtype)


def _flat(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v
