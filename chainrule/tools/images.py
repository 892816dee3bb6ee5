"""Reading a picture of a handwritten digit into MNIST's form: 28x28 grayscale in [0, 1].

PGM files (P2 plain text, P5 binary) are read with NumPy alone; PNG and the other formats Pillow
knows need Pillow, an optional extra (`pip install "chainrule[image]"`).
"""

import io
from pathlib import Path

import numpy as np

MNIST_SHAPE = (28, 28)
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
        ImageFormatError: the file is not an image, or is malformed; the message names the file.
        ImportError: the file is not PGM and Pillow is not installed.
        OSError: the file cannot be read.
    """
    path = Path(path)
    data = path.read_bytes()
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
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode.startswith("I"):  # 16-bit grayscale: convert("L") would clip it
                return np.asarray(image, dtype=np.float64) / 65535.0
            if "A" in image.getbands() or "transparency" in image.info:
                paper = Image.new("RGBA", image.size, "white")
                image = Image.alpha_composite(paper, image.convert("RGBA"))
            return np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        reason = "not a format Pillow knows" if isinstance(err, UnidentifiedImageError) else err
        raise ImageFormatError(
            f"{path} is not an image that can be read ({_first_line(reason)}); expected a PNG "
            "or PGM picture of a digit"
        ) from None


def parse_pgm(data, name="<bytes>"):
    """Parse the bytes of a PGM file (Netpbm P2 or P5) into gray levels in [0, 1].

    The header is `P5 width height maxval` (or `P2`), separated by whitespace, with `#` comments;
    P5 pixels follow one whitespace byte as big-endian integers of 1 byte (maxval < 256) or 2.
    The pixel count the header promises is checked against the data before any array is made.

    Args:
        data: the file's bytes.
        name: the file's name, for error messages.

    Returns:
        np.ndarray of shape (height, width), float64: pixel / maxval.

    Raises:
        ImageFormatError: a malformed header, or pixel data of the wrong length or range.
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
    count = width * height
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
    return values.reshape(height, width) / maxval


def resize_area(image, shape):
    """Resize a 2-D image by area averaging: each output pixel is the mean of the input area it
    covers (fractional overlaps weighted by their size).

    With R (out_h, in_h) and C (out_w, in_w) the row and column overlap matrices, each row
    normalized to sum to 1:  out = R @ image @ Cᵀ.  Shrinking keeps thin strokes visible, which
    sampling would drop; enlarging repeats pixels.

    Args:
        image: array of shape (in_h, in_w).
        shape: the output shape (out_h, out_w).

    Returns:
        np.ndarray of shape `shape`, float64.
    """
    image = np.asarray(image, dtype=np.float64)
    return _overlap(image.shape[0], shape[0]) @ image @ _overlap(image.shape[1], shape[1]).T


def to_mnist(image):
    """Turn a grayscale picture of a digit into MNIST's form: 28x28, white digit on black.

    Pictures with a light background (the mean of the border pixels above 0.5, as with ink on
    paper) are inverted, 1 - x; then the image is area-resized to 28x28.

    Args:
        image: array of shape (height, width), gray levels in [0, 1].

    Returns:
        np.ndarray of shape (28, 28), float32 in [0, 1].
    """
    image = np.asarray(image, dtype=np.float64)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:
        image = 1.0 - image
    return resize_area(image, MNIST_SHAPE).astype(np.float32)


def _overlap(n_in, n_out):
    """(n_out, n_in) weights: the length of input cell j inside output cell i, rows summing to 1."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    cells = np.arange(n_in)
    lengths = np.minimum(edges[1:, None], cells + 1) - np.maximum(edges[:-1, None], cells)
    weights = np.clip(lengths, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


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
