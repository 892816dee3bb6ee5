"""Image preprocessing layers that resize: Resizing (to a size, by interpolation) and CenterCrop
(the central window, resized when the image is smaller), both on ``keras.ops.image.resize``."""

import numpy as np

from ....engine import Tensor
from ....ops import cast
from ... import registry
from ...ops.image import resize
from ..base import Layer
from ..conv import standardize_data_format

RESIZE_MODES = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


class _ImageLayer(Layer):
    """An image layer that hands integer images to ``call`` as they are (Keras keeps uint8
    images uint8 through resizing) and floating ones as the layer's dtype."""

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], (np.ndarray, list)):
            images = np.asarray(args[0])
            if images.dtype.kind in "iu":
                self.built = True
                return self.call(Tensor(images))
        return super().__call__(*args, **kwargs)

    def _axes(self):
        return (-2, -1) if self.data_format == "channels_first" else (-3, -2)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        height_axis, width_axis = self._axes()
        shape[height_axis], shape[width_axis] = self.height, self.width
        return tuple(shape)


@registry.serializable("keras.layers")
class Resizing(_ImageLayer):
    """Resize images (a batch (n, h, w, c) or one (h, w, c); channels first with
    ``data_format="channels_first"``) to (height, width) with ``keras.ops.image.resize``.

    Floating images are differentiable (the resize is linear in the pixels); integer images come
    back rounded and saturated to their dtype.

    Args:
        height, width: the output size.
        interpolation: "bilinear" (default), "nearest", "bicubic", "lanczos3" or "lanczos5".
        crop_to_aspect_ratio: first crop the centre to the target's aspect ratio.
        pad_to_aspect_ratio: first pad with ``fill_value`` to the target's aspect ratio.
        fill_mode: "constant" (the only mode).
        fill_value: the padding value.
        antialias: widen the kernel when downscaling.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> Resizing(224, 224)(images)   # (n, h, w, 3) -> (n, 224, 224, 3)
    """

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if interpolation not in RESIZE_MODES:
            raise ValueError(
                f"Resizing: `interpolation` must be one of {RESIZE_MODES}. Received: "
                f"interpolation={interpolation!r}"
            )
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = standardize_data_format(data_format, "Resizing")

    def call(self, inputs):
        return resize(
            inputs,
            (self.height, self.width),
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }


@registry.serializable("keras.layers")
class CenterCrop(_ImageLayer):
    """The central (height, width) window of images, as the layer's float dtype: rows
    [(h - height) // 2, + height) and likewise columns. An image smaller than the window along
    either axis is instead cropped to the window's aspect ratio and resized to it (bilinear), as
    Keras does.

    Args:
        height, width: the output size.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> CenterCrop(24, 24)(np.zeros((8, 32, 32, 3)))   # -> (8, 24, 24, 3)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.data_format = standardize_data_format(data_format, "CenterCrop")

    def call(self, inputs):
        if inputs.dtype != self.dtype:
            inputs = cast(inputs, dtype=self.dtype)
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f'Layer "{self.name}" (CenterCrop) expects images of rank 3 (h, w, c) or 4 '
                f"(batch, h, w, c); received shape {tuple(inputs.shape)}."
            )
        height_axis, width_axis = self._axes()
        height, width = inputs.shape[height_axis], inputs.shape[width_axis]
        if height < self.height or width < self.width:
            return resize(
                inputs,
                (self.height, self.width),
                crop_to_aspect_ratio=True,
                data_format=self.data_format,
            )
        top, left = (height - self.height) // 2, (width - self.width) // 2
        index = [slice(None)] * inputs.ndim
        index[height_axis] = slice(top, top + self.height)
        index[width_axis] = slice(left, left + self.width)
        return inputs[tuple(index)]

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "height": self.height,
            "width": self.width,
        }
