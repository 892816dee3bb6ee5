"""``tf.strings``: the string functions of TensorFlow programs, on string Tensors.

A string Tensor holds Python ``str`` in an object array (:func:`chainrule.engine.text_array`);
its ``numpy()`` gives UTF-8 ``bytes``, as TensorFlow's does. Every function here takes string
Tensors, NumPy string arrays, Python strings or (nested) lists of them, works elementwise on
NumPy, and returns a Tensor. Strings carry no gradient.

Example::

    import chainrule as tf
    text = tf.constant(["Great film!<br />", "DULL"])
    tf.strings.regex_replace(tf.strings.lower(text), "<br />", " ")   # [b'great film! ', b'dull']
"""

import builtins
import re
import string

import numpy as np

from ..engine import Tensor, text_array, values_of

__all__ = [
    "as_string",
    "join",
    "length",
    "lower",
    "reduce_join",
    "regex_full_match",
    "regex_replace",
    "split",
    "strip",
    "substr",
    "to_number",
    "unicode_split",
    "upper",
]


def _strings(function, value):
    """``value``'s strings as an object array of str.

    Raises:
        TypeError: a value that is not strings, naming the function.
    """
    data = values_of(value) if isinstance(value, Tensor) else np.asarray(value)
    strings = text_array(data)
    if strings is None:
        raise TypeError(
            f"tf.strings.{function}: expected strings; got dtype {data.dtype}. Convert numbers "
            f"with tf.strings.as_string first."
        )
    return strings


def _each(function, value, per_string, otype=object):
    """``per_string`` applied to every string of ``value``, as a Tensor of ``otype``."""
    strings = _strings(function, value)
    result = np.empty(strings.shape, dtype=otype)
    for index, text in np.ndenumerate(strings):
        result[index] = per_string(text)
    return Tensor(result)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def ascii_lower(text):
    """``text`` with its ASCII letters in lower case (the others as they are)."""
    return text.translate(_ASCII_LOWER)


def _utf8(encoding):
    return str(encoding).lower().replace("-", "") == "utf8"


def lower(input, encoding="", name=None):
    """Each string in lower case: its ASCII letters, as TensorFlow by default, or every letter
    with ``encoding="utf-8"``."""
    return _each("lower", input, str.lower if _utf8(encoding) else ascii_lower)


def upper(input, encoding="", name=None):
    """Each string in upper case: its ASCII letters, as TensorFlow by default, or every letter
    with ``encoding="utf-8"``."""
    return _each("upper", input, str.upper if _utf8(encoding) else _ascii_upper)


def _ascii_upper(text):
    return text.translate(_ASCII_UPPER)


def strip(input, name=None):
    """Each string without its leading and trailing whitespace."""
    return _each("strip", input, str.strip)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    """Each string with the matches of the regular expression ``pattern`` replaced by
    ``rewrite`` (``\\1`` names a group): all of them, or only the first without
    ``replace_global``."""
    compiled = re.compile(_text(pattern))
    count = 0 if replace_global else 1
    return _each("regex_replace", input, lambda s: compiled.sub(_text(rewrite), s, count=count))


def regex_full_match(input, pattern, name=None):
    """Whether each whole string matches the regular expression ``pattern`` (bool)."""
    compiled = re.compile(_text(pattern))
    return _each("regex_full_match", input, lambda s: compiled.fullmatch(s) is not None, bool)


def length(input, unit="BYTE", name=None):
    """The length of each string (int32): in UTF-8 bytes (``unit="BYTE"``, TensorFlow's default)
    or in characters (``"UTF8_CHAR"``).

    Raises:
        ValueError: another unit.
    """
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"tf.strings.length: unit must be 'BYTE' or 'UTF8_CHAR'; got {unit!r}")
    measure = len if unit == "UTF8_CHAR" else (lambda s: len(s.encode("utf-8")))
    return _each("length", input, measure, np.int32)


def substr(input, pos, len, unit="BYTE", name=None):
    """The ``len`` characters of each string from position ``pos`` (characters, counted in the
    string as written; a negative ``pos`` counts from the end)."""
    start = int(pos)

    def cut(s):
        begin = start if start >= 0 else max(builtins.len(s) + start, 0)
        return s[begin : begin + int(len)]

    return _each("substr", input, cut)


def join(inputs, separator="", name=None):
    """The strings of several tensors of one shape joined elementwise with ``separator``."""
    columns = np.broadcast_arrays(*[_strings("join", each) for each in inputs])
    result = np.empty(columns[0].shape, dtype=object)
    for index in np.ndindex(result.shape):
        result[index] = _text(separator).join(column[index] for column in columns)
    return Tensor(result)


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    """The strings joined with ``separator`` along ``axis`` (all of them by default)."""
    strings = _strings("reduce_join", inputs)
    if axis is None:
        joined = np.array(_text(separator).join(strings.ravel()), dtype=object)
        return Tensor(joined.reshape((1,) * strings.ndim) if keepdims else joined)
    moved = np.moveaxis(strings, axis, -1)
    result = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(result.shape):
        result[index] = _text(separator).join(moved[index])
    return Tensor(np.expand_dims(result, axis) if keepdims else result)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="", name=None):
    """Each number written as a string (``precision`` digits after the point for floats,
    TensorFlow's six by default)."""
    data = values_of(input) if isinstance(input, Tensor) else np.asarray(input)
    if data.dtype.kind == "f":
        style = "e" if scientific else ("g" if shortest else "f")
        spec = f"{fill}>{width if width > 0 else ''}.{6 if precision < 0 else precision}{style}"
    elif data.dtype.kind in "iub":
        spec = f"{fill}>{width}" if width > 0 else ""
    else:
        raise TypeError(f"tf.strings.as_string: expected numbers; got dtype {data.dtype}")
    result = np.empty(data.shape, dtype=object)
    for index, value in np.ndenumerate(data):
        result[index] = format(value.item() if data.dtype.kind != "b" else bool(value), spec)
    return Tensor(result)


def to_number(string_tensor, out_type="float32", name=None):
    """Each string read as a number of ``out_type`` (float32 by default).

    Raises:
        ValueError: a string that is not a number, naming it.
    """
    dtype = np.dtype(out_type)

    def read(s):
        try:
            return float(s) if dtype.kind == "f" else int(s)
        except ValueError:
            raise ValueError(
                f"tf.strings.to_number: {s!r} is not a number of type {dtype}"
            ) from None

    return _each("to_number", string_tensor, read, dtype)


def split(input, sep=None, maxsplit=-1, name=None):
    """The pieces of one string split at ``sep`` (at runs of whitespace by default), as a 1-D
    string Tensor.

    Raises:
        ValueError: more than one string: TensorFlow returns a RaggedTensor then, which
            chainrule does not have; split each string, or use TextVectorization.
    """
    strings = _strings("split", input)
    if strings.ndim != 0:
        raise ValueError(
            f"tf.strings.split: chainrule splits one string at a time (TensorFlow gives a "
            f"RaggedTensor for {strings.shape}); loop over the strings, or let "
            f"keras.layers.TextVectorization split them."
        )
    pieces = strings.item().split(None if sep is None else _text(sep), maxsplit)
    return Tensor(np.array(pieces, dtype=object).reshape(-1))


def unicode_split(input, input_encoding="UTF-8", errors="replace", name=None):
    """The characters of one string, as a 1-D string Tensor (see :func:`split` for batches)."""
    strings = _strings("unicode_split", input)
    if strings.ndim != 0:
        raise ValueError(
            f"tf.strings.unicode_split: chainrule splits one string at a time (TensorFlow "
            f"gives a RaggedTensor for {strings.shape}); loop over the strings."
        )
    return Tensor(np.array(list(strings.item()), dtype=object).reshape(-1))


def _text(value):
    """A pattern, rewrite or separator as str (a string Tensor, bytes or str)."""
    if isinstance(value, Tensor):
        value = _strings("argument", value).item()
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
