"""Images between files, Pillow and NumPy, as Keras 3's image utilities: ``load_img``,
``save_img``, ``img_to_array``, ``array_to_img`` and ``smart_resize``.

Pillow is an optional dependency (``pip install "chainrule[image]"``), imported when an image is
first read or written. An image's size is read from its header before any pixel is decoded, and
an image of more than ``MAX_IMAGE_PIXELS`` pixels is refused, so a small file cannot claim
gigabytes of memory.
"""

import io
import os
import pathlib
import stat
import warnings

import numpy as np

from .. import config
from ..ops import image as image_ops

# The most pixels (width x height) an image may have to be decoded: 2**27, about 134 million
# (Pillow warns from 89 million and refuses from 179 million).
MAX_IMAGE_PIXELS = 1 << 27

# Pillow's resampling filters, by Keras's names for them.
PIL_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")

# color_mode -> (Pillow modes kept as they are, the mode others are converted to, channels)
COLOR_MODES = {
    "grayscale": (("L", "I;16", "I"), "L", 1),
    "rgb": (("RGB",), "RGB", 3),
    "rgba": (("RGBA",), "RGBA", 4),
}


def _pil_image(caller):
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(
            f'{caller} needs Pillow: pip install "chainrule[image]" (or pip install pillow).'
        ) from err
    return Image


def _data_format(data_format, caller):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f'{caller}: `data_format` must be "channels_last" or "channels_first". Received: '
            f"{data_format!r}"
        )
    return data_format


def open_image(path, color_mode="rgb", caller="load_img"):
    """Open an image file (path or ``io.BytesIO``), refuse it if it has more than
    ``MAX_IMAGE_PIXELS`` pixels, decode its first frame and convert it to ``color_mode``.

    Returns:
        PIL.Image.Image: the decoded image.

    Raises:
        ValueError: an unknown ``color_mode``, a path that is not a regular file, or an image
            over the pixel limit.
        TypeError: ``path`` is neither path-like nor ``io.BytesIO``.
    """
    if color_mode not in COLOR_MODES:
        raise ValueError(
            f'{caller}: `color_mode` must be "grayscale", "rgb" or "rgba". Received: {color_mode!r}'
        )
    Image = _pil_image(caller)
    if isinstance(path, io.BytesIO):
        source, name = path, "the BytesIO image"
    elif isinstance(path, (str, bytes, pathlib.Path)):
        source = name = os.fsdecode(path)
        if not stat.S_ISREG(os.stat(source).st_mode):  # a FIFO or a device would block or never end
            raise ValueError(f"{caller}: {name} is not a regular file; expected an image file")
    else:
        raise TypeError(f"{caller}: path should be path-like or io.BytesIO, not {type(path)}")
    image = Image.open(source)  # reads the header only
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise ValueError(
            f"{caller}: {name} is {width}x{height} = {width * height} pixels, over the limit "
            f"of {MAX_IMAGE_PIXELS} (chainrule.keras.utils.images.MAX_IMAGE_PIXELS); refusing "
            f"to decode it."
        )
    kept, convert_to, _ = COLOR_MODES[color_mode]
    with image:
        image.load()
        return image.copy() if image.mode in kept else image.convert(convert_to)


def load_img(
    path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False
):
    """Load an image file as a Pillow image, as Keras's ``load_img``.

    Args:
        path: a path or an ``io.BytesIO``.
        color_mode: "grayscale", "rgb" or "rgba".
        target_size: None (the file's size) or ``(height, width)``.
        interpolation: Pillow's filter for resizing: "nearest", "bilinear", "bicubic",
            "hamming", "box" or "lanczos".
        keep_aspect_ratio: crop the centre to the target's aspect ratio before resizing.

    Returns:
        PIL.Image.Image.

    Raises:
        ValueError: an unknown ``color_mode`` or ``interpolation``, or an image over
            ``MAX_IMAGE_PIXELS``.
    """
    image = open_image(path, color_mode, "load_img")
    if target_size is None:
        return image
    size = (int(target_size[1]), int(target_size[0]))
    if image.size == size:
        return image
    if interpolation not in PIL_INTERPOLATIONS:
        raise ValueError(
            f"load_img: invalid interpolation method {interpolation!r}; supported methods are "
            f"{', '.join(PIL_INTERPOLATIONS)}."
        )
    resample = getattr(_pil_image("load_img").Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return image.resize(size, resample)
    width, height = image.size
    crop_height = min(height, (width * size[1]) // size[0])
    crop_width = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return image.resize(size, resample, box=(left, top, left + crop_width, top + crop_height))


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image (or anything NumPy reads) as a 3-D array: (height, width, channels), or
    (channels, height, width) with ``data_format="channels_first"``; dtype ``floatx()`` by
    default.

    Raises:
        ValueError: an array that is neither 2-D nor 3-D.
    """
    data_format = _data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=config.floatx() if dtype is None else dtype)
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[:, :, None]
    elif x.ndim == 3:
        x = x.transpose(2, 0, 1) if data_format == "channels_first" else x
    else:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected 2-D or 3-D.")
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array as a Pillow image, as Keras's ``array_to_img``.

    With ``scale`` the values are shifted and scaled to span [0, 255]; 4 channels make an RGBA
    image, 3 an RGB one, 1 a grayscale one ("L", or 32-bit "I" when values exceed 255).

    Raises:
        ValueError: not 3-D, or a channel count other than 1, 3 or 4.
    """
    data_format = _data_format(data_format, "array_to_img")
    Image = _pil_image("array_to_img")
    x = np.asarray(x, dtype=config.floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(
            f"array_to_img: expected an image array of rank 3 (a single image); got shape "
            f"{x.shape}."
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x /= peak
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: unsupported channel number {channels}; expected 1, 3 or 4.")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save a 3-D array as an image file (or into a file object, given ``file_format``).

    The format comes from the file's extension unless ``file_format`` is given ("jpg" means
    "jpeg"); an RGBA image saved as JPEG is converted to RGB with a warning. ``kwargs`` go to
    Pillow's ``Image.save``.
    """
    data_format = _data_format(data_format, "save_img")
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        image = image.convert("RGB")
    image.save(path, format=file_format, **kwargs)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resize an image (h, w, c) or a batch (n, h, w, c) to ``size`` = (height, width) without
    distorting it: the largest centred crop with the target's aspect ratio is resized, as
    Keras's ``smart_resize`` (bilinear by default; also "nearest", "bicubic", "lanczos3",
    "lanczos5"). A NumPy input gives a NumPy array back.

    Raises:
        ValueError: ``size`` is not two integers, or ``x`` is not of rank 3 or 4.
    """
    if len(size) != 2:
        raise ValueError(f"smart_resize: expected `size` to be 2 integers; got {size}.")
    rank = np.ndim(x)
    if rank not in (3, 4):
        raise ValueError(
            f"smart_resize: expected an image (height, width, channels) or a batch (batch_size, "
            f"height, width, channels); got shape {np.shape(x)}."
        )
    resized = image_ops.resize(
        x, size, interpolation=interpolation, crop_to_aspect_ratio=True, data_format=data_format
    )
    return resized.numpy() if isinstance(x, np.ndarray) else resized
