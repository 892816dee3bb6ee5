"""Reading the pickles inside dataset files without running code from them.

A pickle can name any importable callable and call it while loading; a tampered dataset file
could so run arbitrary code. The unpickler here resolves only the three names NumPy needs to
rebuild an array (``ndarray``, ``dtype`` and ``multiarray._reconstruct``); everything else in a
dataset pickle (lists, dicts, bytes, numbers) needs no name at all.
"""

import pickle
import zipfile

import numpy as np

_ALLOWED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class UnsafePickleError(pickle.UnpicklingError):
    """A dataset pickle asked for something other than a NumPy array, list, dict or scalar."""


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only NumPy's array-rebuilding names."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refusing to load {module}.{name} from a dataset pickle: only NumPy arrays, lists, "
            f"dicts and plain values are allowed. The file may be damaged or malicious; delete "
            f"it to download it again."
        )


def load_pickle(file, encoding="ASCII"):
    """Unpickle one object from an open binary file, with :class:`RestrictedUnpickler`.

    Args:
        file: a binary file object.
        encoding: how to decode Python 2 byte strings ("bytes" keeps them bytes).
    """
    return RestrictedUnpickler(file, encoding=encoding).load()


def load_npz(path):
    """Every array of an ``.npz`` archive, object arrays included, without running code.

    Numeric members are read with pickling off; object members (ragged sequences stored as
    pickles) through :class:`RestrictedUnpickler`.

    Args:
        path: the archive.

    Returns:
        dict: member name (without ".npy") -> ndarray.

    Raises:
        UnsafePickleError: a member's pickle names anything but NumPy's array constructors.
        ValueError: a member that is not a ``.npy`` stream.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            key = member[: -len(".npy")] if member.endswith(".npy") else member
            with archive.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
                if dtype.hasobject:
                    arrays[key] = load_pickle(stream, encoding="latin1")
                else:
                    data = np.frombuffer(stream.read(), dtype=dtype)
                    order = "F" if fortran else "C"
                    arrays[key] = data.reshape(shape, order=order).copy()
    return arrays
