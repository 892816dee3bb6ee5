"""Read and encode IDX files, the array format of MNIST and its relatives.

An IDX file is a small header followed by the array's items in row-major order:

    bytes 0-1   two zero bytes
    byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
                0x0E float64
    byte  3     number of dimensions n
    then        n big-endian uint32 sizes, one per dimension
    then        prod(sizes) items, big-endian

Gzip-compressed files are recognised by their magic bytes (1f 8b), whatever their name, and
decompressed on the fly. No buffer is sized from the header alone: the byte count the header
promises is checked against the bytes really there (or, for a stream whose length cannot be known
in advance, against `MAX_STREAM_BYTES`) before the data is read.
"""

import gzip
import math
import os
import struct
import zlib

import numpy as np

DTYPE_CODES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAX_NDIM = 32
MAX_STREAM_BYTES = 1 << 30
GZIP_MAGIC = b"\x1f\x8b"

_CHUNK_BYTES = 1 << 20


class IDXFormatError(ValueError):
    """An IDX file is malformed, truncated, or has bytes after its data."""


def read_idx(source, name=None):
    """Read one IDX file into a NumPy array in native byte order.

    Args:
        source: a path (str or os.PathLike), or a binary file object positioned at the start
            of the IDX data that is seekable or has `peek()` (files, io.BytesIO, HTTP replies).
            Plain and gzip-compressed content are both accepted.
        name: what to call the file in error messages; defaults to the path, or the file
            object's `name` attribute.

    Returns:
        A writable ndarray with the dtype and shape the header declares (multi-byte dtypes
        converted from big-endian to native order).

    Raises:
        IDXFormatError: bad magic bytes, unknown dtype code, a number of dimensions outside
            1..MAX_NDIM, fewer data bytes than the header promises, bytes after the data, a
            damaged gzip stream, or a compressed stream promising more than MAX_STREAM_BYTES.
        OSError: the file cannot be opened or read.

    Example:
        >>> labels = read_idx("train-labels-idx1-ubyte.gz")
        >>> labels.shape, labels.dtype
        ((60000,), dtype('uint8'))
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            return _read_stream(stream, os.fspath(source) if name is None else name)
    if name is None:
        name = str(getattr(source, "name", "<IDX stream>"))
    return _read_stream(source, name)


def to_idx_bytes(array):
    """Encode an array as the bytes of an IDX file (uncompressed).

    Args:
        array: an ndarray of one of the dtypes in `DTYPE_CODES`, with 1 to MAX_NDIM dimensions,
            each smaller than 2**32.

    Returns:
        bytes: the IDX header followed by the items in big-endian, row-major order.

    Raises:
        ValueError: the dtype has no IDX code, or the shape cannot be written in an IDX header.
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in DTYPE_CODES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        known = ", ".join(str(dtype.newbyteorder("=")) for dtype in DTYPE_CODES.values())
        raise ValueError(f"to_idx_bytes: dtype {array.dtype} has no IDX code; expected {known}")
    if not 1 <= array.ndim <= MAX_NDIM or any(size >= 1 << 32 for size in array.shape):
        raise ValueError(
            f"to_idx_bytes: shape {array.shape} cannot be written as IDX; expected 1 to "
            f"{MAX_NDIM} dimensions, each below 2**32"
        )
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=DTYPE_CODES[code]).tobytes()


def _read_stream(stream, name):
    """Dispatch on the magic bytes: gzip content is decompressed, anything else read as is."""
    if _peek(stream, 2) != GZIP_MAGIC:
        return _parse(stream, name, _remaining_bytes(stream))
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
            return _parse(unzipped, name, None)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise IDXFormatError(f"{name}: damaged gzip stream ({err})") from err


def _parse(stream, name, available):
    """Parse header and data; `available` is the byte count left in `stream`, or None if unknown."""
    head = stream.read(4)
    if len(head) < 4:
        raise IDXFormatError(f"{name}: {len(head)} bytes, too short for an IDX header (4 bytes)")
    if head[:2] != b"\0\0":
        raise IDXFormatError(
            f"{name}: not an IDX file; it starts with bytes {head[:2].hex(' ')}, expected 00 00"
        )
    code, ndim = head[2], head[3]
    if code not in DTYPE_CODES:
        known = ", ".join(f"0x{known:02X}" for known in DTYPE_CODES)
        raise IDXFormatError(
            f"{name}: unknown IDX dtype code 0x{code:02X}; expected one of {known}"
        )
    if not 1 <= ndim <= MAX_NDIM:
        raise IDXFormatError(f"{name}: header declares {ndim} dimensions; expected 1 to {MAX_NDIM}")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXFormatError(
            f"{name}: truncated header; {ndim} dimensions need {4 * ndim} size bytes, "
            f"found {len(sizes)}"
        )
    shape = struct.unpack(f">{ndim}I", sizes)
    dtype = DTYPE_CODES[code]
    promised = math.prod(shape) * dtype.itemsize
    if available is None:
        data = _read_capped(stream, name, shape, dtype, promised)
    else:
        _check_length(name, shape, dtype, promised, available - 4 - 4 * ndim)
        data = bytearray(promised)
        if stream.readinto(data) != promised:
            raise IDXFormatError(f"{name}: file shrank while it was being read")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _check_length(name, shape, dtype, promised, found):
    """Compare the data bytes the header promises with the bytes present after the header."""
    if found < promised:
        raise IDXFormatError(
            f"{name}: truncated; header promises shape {shape} of {dtype.name} "
            f"({promised} data bytes) but only {found} follow"
        )
    if found > promised:
        raise IDXFormatError(
            f"{name}: {found - promised} unexpected bytes after the {promised} data bytes "
            f"of shape {shape}"
        )


def _read_capped(stream, name, shape, dtype, promised):
    """Read a stream of unknown length: at most promised + 1 bytes, in chunks that double.

    Each read buffer is at most as large as the data already received (or one chunk), so a
    header promising far more than the stream holds costs little memory.
    """
    if promised > MAX_STREAM_BYTES:
        raise IDXFormatError(
            f"{name}: header promises shape {shape} of {dtype.name} ({promised} bytes), more "
            f"than the {MAX_STREAM_BYTES} bytes read from a compressed or unsized stream; "
            "decompress it to a plain file first if it is genuine"
        )
    data = bytearray()
    while len(data) <= promised:
        chunk = stream.read(min(max(_CHUNK_BYTES, len(data)), promised + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) > promised:
        raise IDXFormatError(
            f"{name}: unexpected bytes after the {promised} data bytes of shape {shape}"
        )
    _check_length(name, shape, dtype, promised, len(data))
    return data


def _peek(stream, count):
    """Return the next `count` bytes of `stream` without consuming them."""
    if not stream.seekable():
        return stream.peek(count)[:count]
    start = stream.tell()
    head = stream.read(count)
    stream.seek(start)
    return head


def _remaining_bytes(stream):
    """Bytes left between the current position and the end, or None for unseekable streams."""
    if not stream.seekable():
        return None
    start = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(start)
    return end - start
