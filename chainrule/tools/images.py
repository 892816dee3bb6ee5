"""Reading a picture of a handwritten digit into MNIST's form: 28x28 grayscale in [0, 1].

PGM files (P2 plain text, P5 binary) are read with NumPy alone; PNG and the other formats Pillow
knows need Pillow, an optional extra (`pip install "chainrule[image]"`).

What a file may cost is bounded before anything is allocated: only regular files are opened (not
a FIFO, which would block, nor a device such as /dev/zero), of at most `MAX_FILE_BYTES`, and the
width x height in the header is checked against `MAX_PIXELS` before the pixels are decoded.
"""

import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np

MNIST_SHAPE = (28, 28)
MAX_FILE_BYTES = 128 * 2**20
MAX_PIXELS = 50_000_000  # a 7000x7000 photo; decoding it takes about 0.5 GB as float64
MAX_TEXT_PIXELS = 1_000_000  # plain-text P2 is parsed token by token: about 60 bytes a pixel
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PGM_MAGICS = (b"P2", b"P5")
PGM_WHITESPACE = b" \t\r\n\v\f"


class ImageFormatError(ValueError):
    """A file is not an image that can be read, or its contents are inconsistent."""


def read_grayscale(path):
    """Read an image file as a 2-D float64 array of gray levels in [0, 1] (0 black, 1 white).

    Colour images are converted with Pillow's luma transform L = 0.299 R + 0.587 G + 0.114 B;
    transparent pixels count as white paper.

    Args:
        path: the image file (str or os.PathLike): PGM, or PNG/JPEG/BMP/... with Pillow.

    Returns:
        np.ndarray of shape (height, width), float64.

    Raises:
        ImageFormatError: the file is not a regular file, holds more than `MAX_FILE_BYTES` bytes
            or `MAX_PIXELS` pixels, is not an image, or is malformed; the message names the file.
        ImportError: the file is not PGM and Pillow is not installed.
        OSError: the file cannot be read.
    """
    path = Path(path)
    data = _read_regular_file(path)
    if data[:2] in PGM_MAGICS:
        return parse_pgm(data, str(path))
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as err:
        kind = "a PNG image" if data.startswith(PNG_SIGNATURE) else "not a PGM image"
        raise ImportError(
            f'{path} is {kind}; reading it needs Pillow: pip install "chainrule[image]" '
            "(PGM files are read without it)"
        ) from err
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit is lower
            image = Image.open(io.BytesIO(data))  # reads the header only
        with image:
            _check_pixels(str(path), *image.size)
            image.load()
            if image.mode.startswith("I"):  # 16-bit grayscale: convert("L") would clip it
                gray = np.asarray(image, dtype=np.float64)
                gray /= 65535.0
                return gray
            if "A" in image.getbands() or "transparency" in image.info:
                paper = Image.new("RGBA", image.size, "white")
                image = Image.alpha_composite(paper, image.convert("RGBA"))
            gray = np.asarray(image.convert("L"), dtype=np.float64)
            gray /= 255.0
            return gray
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        if isinstance(err, ImageFormatError):
            raise
        reason = "not a format Pillow knows" if isinstance(err, UnidentifiedImageError) else err
        raise ImageFormatError(
            f"{path} is not an image that can be read ({_first_line(reason)}); expected a PNG "
            "or PGM picture of a digit"
        ) from None


def parse_pgm(data, name="<bytes>"):
    """Parse the bytes of a PGM file (Netpbm P2 or P5) into gray levels in [0, 1].

    The header is `P5 width height maxval` (or `P2`), separated by whitespace, with `#` comments;
    P5 pixels follow one whitespace byte as big-endian integers of 1 byte (maxval < 256) or 2.
    The pixel count the header promises is checked against `MAX_PIXELS` (`MAX_TEXT_PIXELS` for
    P2) and against the data before any array is made.

    Args:
        data: the file's bytes.
        name: the file's name, for error messages.

    Returns:
        np.ndarray of shape (height, width), float64: pixel / maxval.

    Raises:
        ImageFormatError: a malformed header, too many pixels, or pixel data of the wrong length
            or range.
    """
    magic = data[:2]
    if magic not in PGM_MAGICS:
        raise ImageFormatError(
            f"{name}: not a PGM file (it starts with {data[:2]!r}; expected P2 or P5)"
        )
    fields, position = [], 2
    while len(fields) < 3:
        token, position = _next_token(data, position, name)
        if not _is_count(token):
            raise ImageFormatError(
                f"{name}: PGM header field {('width', 'height', 'maxval')[len(fields)]} must be "
                f"a positive integer; got {token[:20]!r}"
            )
        fields.append(int(token))
    width, height, maxval = fields
    if width < 1 or height < 1 or not 1 <= maxval <= 65535:
        raise ImageFormatError(
            f"{name}: PGM header says {width}x{height} pixels with maxval {maxval}; expected "
            "width and height >= 1 and maxval in [1, 65535]"
        )
    count = _check_pixels(name, width, height)
    if magic == b"P2" and count > MAX_TEXT_PIXELS:
        raise ImageFormatError(
            f"{name}: a plain-text PGM (P2) of {width}x{height} = {count} pixels; plain-text PGM "
            f"is read up to {MAX_TEXT_PIXELS} pixels: save larger images as binary PGM (P5) or PNG"
        )
    if magic == b"P5":
        dtype = np.dtype(">u1") if maxval < 256 else np.dtype(">u2")
        pixels = data[position + 1 :]  # exactly one whitespace byte ends the header
        if len(pixels) != count * dtype.itemsize:
            raise ImageFormatError(
                f"{name}: PGM header promises {width}x{height} pixels ({count * dtype.itemsize} "
                f"bytes) but {len(pixels)} bytes follow it"
            )
        values = np.frombuffer(pixels, dtype=dtype)
    else:
        tokens = data[position:].split()
        if len(tokens) != count or not all(_is_count(token) for token in tokens):
            raise ImageFormatError(
                f"{name}: PGM header promises {width}x{height} = {count} pixel values but the "
                f"text holds {len(tokens)} tokens, or some are not integers in [0, 65535]"
            )
        values = np.array([int(token) for token in tokens], dtype=np.int64)
    if values.max() > maxval:
        raise ImageFormatError(f"{name}: a pixel value {values.max()} exceeds maxval {maxval}")
    gray = values.reshape(height, width).astype(np.float64)
    gray /= maxval
    return gray


def resize_area(image, shape):
    """Resize a 2-D image by area averaging: each output pixel is the mean of the input area it
    covers (fractional overlaps weighted by their size).

    With R (out_h, in_h) and C (out_w, in_w) the row and column overlap matrices, each row
    normalized to sum to 1:  out = R @ image @ Cᵀ.  Shrinking keeps thin strokes visible, which
    sampling would drop; enlarging repeats pixels. R and C are built a block of input cells at a
    time, so a long side costs memory in proportion to the block, not to out x in.

    Args:
        image: array of shape (in_h, in_w).
        shape: the output shape (out_h, out_w).

    Returns:
        np.ndarray of shape `shape`, float64.
    """
    image = np.asarray(image, dtype=np.float64)
    (in_h, in_w), (out_h, out_w) = image.shape, shape
    if out_h * in_w <= in_h * out_w:  # first the axis that leaves the smaller intermediate
        return _resize_first_axis(_resize_first_axis(image, out_h).T, out_w).T
    return _resize_first_axis(_resize_first_axis(image.T, out_w).T, out_h)


def to_mnist(image):
    """Turn a grayscale picture of a digit into MNIST's form: 28x28, white digit on black.

    Pictures with a light background (the mean of the border pixels above 0.5, as with ink on
    paper) are inverted, 1 - x; then the image is area-resized to 28x28. (The inversion is done
    on the resized image: area averaging commutes with 1 - x, and it saves a full-size copy.)

    Args:
        image: array of shape (height, width), gray levels in [0, 1].

    Returns:
        np.ndarray of shape (28, 28), float32 in [0, 1].
    """
    image = np.asarray(image, dtype=np.float64)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    resized = resize_area(image, MNIST_SHAPE)
    if border.mean() > 0.5:
        resized = 1.0 - resized
    return resized.astype(np.float32)


_RESIZE_BLOCK = 4096  # input cells per block of an overlap matrix: (28, 4096) float64 = 0.9 MB


def _resize_first_axis(image, n_out):
    """Area-resize axis 0 of `image` to `n_out`: R @ image, R summed block by block."""
    n_in = image.shape[0]
    out = np.zeros((n_out,) + image.shape[1:])
    for start in range(0, n_in, _RESIZE_BLOCK):
        stop = min(start + _RESIZE_BLOCK, n_in)
        out += _overlap(n_in, n_out, start, stop) @ image[start:stop]
    return out


def _overlap(n_in, n_out, start, stop):
    """Columns start:stop of the (n_out, n_in) weights: the length of input cell j inside output
    cell i, divided by the output cell's length n_in / n_out, so that full rows sum to 1."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    cells = np.arange(start, stop)
    lengths = np.minimum(edges[1:, None], cells + 1) - np.maximum(edges[:-1, None], cells)
    return np.clip(lengths, 0.0, None) * (n_out / n_in)


def _read_regular_file(path):
    """The bytes of `path`, refused without opening it unless it is a regular file of at most
    MAX_FILE_BYTES (a FIFO would block, /dev/zero never end)."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ImageFormatError(
            f"{path} is not a regular file ({_file_kind(info.st_mode)}); expected a PNG or PGM "
            "picture of a digit"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise ImageFormatError(
            f"{path} holds {info.st_size} bytes; images are read up to {MAX_FILE_BYTES} bytes "
            "(a digit needs only 28x28 pixels: scale it down)"
        )
    with open(path, "rb") as file:
        data = file.read(info.st_size + 1)  # read(n) allocates n bytes up front
    if len(data) > info.st_size:
        raise ImageFormatError(f"{path} grew while it was being read; try again once written")
    return data


def _file_kind(mode):
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((kind for test, kind in kinds.items() if test(mode)), "not a regular file")


def _check_pixels(name, width, height):
    """width * height, refused above MAX_PIXELS before any pixel is decoded."""
    count = width * height
    if count > MAX_PIXELS:
        raise ImageFormatError(
            f"{name}: the image is {width}x{height} = {count} pixels; images are read up to "
            f"{MAX_PIXELS} pixels (a digit needs only 28x28: scale it down)"
        )
    return count


def _next_token(data, position, name):
    """The next whitespace-separated header token from `position`, skipping `#` comments."""
    while position < len(data):
        if data[position] in PGM_WHITESPACE:
            position += 1
        elif data[position : position + 1] == b"#":
            end = data.find(b"\n", position)
            position = len(data) if end < 0 else end + 1
        else:
            end = position
            while (
                end < len(data) and data[end] not in PGM_WHITESPACE and data[end : end + 1] != b"#"
            ):
                end += 1
            return data[position:end], end
    raise ImageFormatError(f"{name}: the PGM header ends early; expected width, height and maxval")


def _is_count(token):
    """A bytes token of at most 9 decimal digits (any larger value is out of range anyway)."""
    return token.isdigit() and len(token) <= 9


def _first_line(reason):
    return str(reason).splitlines()[0] if str(reason) else type(reason).__name__
