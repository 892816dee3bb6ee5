"""Geometric image augmentation, as Keras 3's layers: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation (warps by ``keras.ops.image.affine_transform``) and RandomCrop (a window,
resized by ``keras.ops.image.resize`` when the image is too small).

The warps map each output pixel (x, y) to the input point it samples,

    (x', y') = (a0 x + a1 y + a2,  b0 x + b1 y + b2),

from a transform [a0, a1, a2, b0, b1, b2, 0, 0] per image; values at the fractional point are
interpolated ("bilinear" or "nearest") and points outside the image are filled by ``fill_mode``:
"reflect" (d c b a | a b c d | d c b a), "wrap" (a b c d | a b c d), "nearest" (a a a a | a b c d)
or "constant" (``fill_value``).
"""

import numpy as np

from .... import ops
from .... import random as global_random
from ... import registry
from ...ops.image import affine_transform, resize
from .augmentation import ImageAugmentationLayer, as_saved, check_choice, factor_range

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def rotation_matrix(angle, height, width):
    """The transforms (n, 8) that rotate images of size (height, width) by ``angle`` (n,)
    degrees about their centre (cx, cy) = ((width - 1) / 2, (height - 1) / 2):

        a0 = cos θ,  a1 = -sin θ,  a2 = cx - cx a0 - cy a1
        b0 = sin θ,  b1 = cos θ,   b2 = cy - cx b0 - cy b1

    (a positive angle turns the image counter-clockwise on screen, as in Keras)."""
    theta = np.deg2rad(np.asarray(angle, dtype=np.float64).reshape(-1))
    cx, cy = (width - 1) / 2, (height - 1) / 2
    a0, a1 = np.cos(theta), -np.sin(theta)
    b0, b1 = np.sin(theta), np.cos(theta)
    zeros = np.zeros_like(theta)
    rows = [a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, zeros, zeros]
    return np.stack(rows, axis=1).astype(np.float32)


class _AffineLayer(ImageAugmentationLayer):
    """An augmentation that warps each image by an affine transform of its own."""

    def __init__(
        self,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = type(self).__name__
        check_choice(owner, "fill_mode", fill_mode, FILL_MODES)
        check_choice(owner, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _transform(self, images, transformation):
        height, width = self._size(images)
        return affine_transform(
            images,
            self._matrix(transformation, height, width),
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def _matrix(self, transformation, height, width):
        """The (n, 8) transforms of ``transformation`` for images of size (height, width)."""
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
        }


@registry.serializable("keras.layers")
class RandomFlip(ImageAugmentationLayer):
    """Flips each image, with probability ½, left-right ("horizontal"), upside down
    ("vertical") or both at once ("horizontal_and_vertical", the default: one coin per image
    for both axes, as in Keras). The identity in inference.

    Transformation: ``{"flips": bool (n, 1, 1, 1)}`` (``(1, 1, 1)`` for one image).
    dL/dx = dL/dy flipped back where flipped.

    Args:
        mode: "horizontal", "vertical" or "horizontal_and_vertical".
        seed, data_format: as every augmentation layer.

    Example:
        >>> RandomFlip("horizontal")(images)   # (n, h, w, c), about half of them mirrored
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        check_choice("RandomFlip", "mode", mode, FLIP_MODES)
        self.mode = mode

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        shape = (data.shape[0], 1, 1, 1) if data.ndim == 4 else (1, 1, 1)
        return {"flips": self._rng(seed).random(shape) <= 0.5}

    def _transform(self, images, transformation):
        flips = np.asarray(transformation["flips"], dtype=bool)
        height_axis, width_axis = self._spatial_axes()
        axes = {"horizontal": [width_axis], "vertical": [height_axis]}.get(
            self.mode, [width_axis, height_axis]
        )
        for axis in axes:
            images = ops.where(flips, ops.flip(images, axis=axis), images)
        return images

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@registry.serializable("keras.layers")
class RandomRotation(_AffineLayer):
    """Rotates each image about its centre by an angle drawn uniformly from
    [lower, upper] × 360 degrees, where ``factor`` f gives [-f, f] (a counter-clockwise turn
    for a positive angle) and a pair (a, b) gives [a, b]. The identity in inference.

    Transformation: ``{"angle": (n,) degrees, "rotation_matrix": (n, 8)}`` (see
    :func:`rotation_matrix`; ``(8,)`` for one image, as Keras gives it).

    Args:
        factor: a number in [-1, 1] or a pair, as a fraction of a full turn (0.1: ±36°).
        fill_mode: "reflect" (default), "wrap", "constant" or "nearest".
        interpolation: "bilinear" (default) or "nearest".
        seed, data_format: as every augmentation layer.
        fill_value: the value outside the image for fill_mode="constant".

    Example:
        >>> RandomRotation(0.1)(images)
    """

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range("RandomRotation", "factor", factor, (-1, 1))

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        lower, upper = self.factor
        angle = self._rng(seed).uniform(lower * 360.0, upper * 360.0, self._batch_size(data))
        matrix = rotation_matrix(angle, *self._size(data))
        return {
            "angle": angle.astype(np.float32),
            "rotation_matrix": matrix if data.ndim == 4 else matrix[0],
        }

    def _matrix(self, transformation, height, width):
        return np.reshape(transformation["rotation_matrix"], (-1, 8))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@registry.serializable("keras.layers")
class RandomZoom(_AffineLayer):
    """Zooms each image about its centre: the output samples the input at

        x' = zx (x - cx) + cx,   y' = zy (y - cy) + cy,   (cx, cy) = ((w - 1) / 2, (h - 1) / 2)

    with zy = 1 + u, u uniform in the ``height_factor`` range (f gives [-f, f]), and zx drawn
    likewise from ``width_factor``, or zx = zy (aspect kept) when it is None. A factor above 0
    zooms out (zy > 1 takes in more of the image), below 0 zooms in. The identity in inference.

    Transformation: ``{"height_zoom": (n, 1), "width_zoom": (n, 1)}``.

    Args:
        height_factor: a number or a pair, each in (-1, 1].
        width_factor: the same for the width, or None (default) to keep the aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: as RandomRotation.

    Example:
        >>> RandomZoom(0.2)(images)   # zoom by a factor in [0.8, 1.2]
    """

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = as_saved(height_factor)
        self.width_factor = as_saved(width_factor)
        self._height_range = self._parse(height_factor, "height_factor")
        self._width_range = (
            None if width_factor is None else self._parse(width_factor, "width_factor")
        )

    @staticmethod
    def _parse(factor, argument):
        return factor_range("RandomZoom", argument, factor, (-1, 1), each=True, open_low=True)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        rng, shape = self._rng(seed), (self._batch_size(data), 1)
        height_zoom = 1.0 + rng.uniform(*self._height_range, shape)
        width_zoom = height_zoom
        if self._width_range is not None:
            width_zoom = 1.0 + rng.uniform(*self._width_range, shape)
        return {
            "height_zoom": height_zoom.astype(np.float32),
            "width_zoom": width_zoom.astype(np.float32),
        }

    def _matrix(self, transformation, height, width):
        zx = np.asarray(transformation["width_zoom"], np.float32).reshape(-1)
        zy = np.asarray(transformation["height_zoom"], np.float32).reshape(-1)
        zeros = np.zeros_like(zx)
        x_offset = (width - 1) / 2 * (1 - zx)
        y_offset = (height - 1) / 2 * (1 - zy)
        return np.stack([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


@registry.serializable("keras.layers")
class RandomTranslation(_AffineLayer):
    """Shifts each image by (dx, dy) = (u w, v h) pixels, u drawn uniformly from the
    ``width_factor`` range and v from ``height_factor`` (f gives [-f, f]): the output samples
    the input at (x - dx, y - dy), so a positive dx moves the content right. The identity in
    inference.

    Transformation: ``{"translations": (n, 2)}``, the shifts [dx, dy] in pixels.

    Args:
        height_factor, width_factor: a number or a pair, each in [-1, 1], as a fraction of
            the height and width.
        fill_mode, interpolation, seed, fill_value, data_format: as RandomRotation.

    Example:
        >>> RandomTranslation(0.1, 0.1)(images)   # shifts of up to a tenth of each side
    """

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = as_saved(height_factor)
        self.width_factor = as_saved(width_factor)
        self._height_range = self._parse(height_factor, "height_factor")
        self._width_range = self._parse(width_factor, "width_factor")

    @staticmethod
    def _parse(factor, argument):
        return factor_range("RandomTranslation", argument, factor, (-1, 1), each=True)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        rng, shape = self._rng(seed), (self._batch_size(data), 1)
        height, width = self._size(data)
        dy = rng.uniform(*self._height_range, shape) * height
        dx = rng.uniform(*self._width_range, shape) * width
        return {"translations": np.concatenate([dx, dy], axis=1).astype(np.float32)}

    def _matrix(self, transformation, height, width):
        shifts = np.asarray(transformation["translations"], np.float32).reshape(-1, 2)
        ones, zeros = np.ones(len(shifts), np.float32), np.zeros(len(shifts), np.float32)
        dx, dy = shifts[:, 0], shifts[:, 1]
        return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


@registry.serializable("keras.layers")
class RandomCrop(ImageAugmentationLayer):
    """In training, a (height, width) window of the images at a random place, the same for
    the whole batch: rows [top, top + height) with top uniform in [0, h - height], and columns
    likewise. When the image is not larger than the window along both axes, the window
    instead starts at the centre of the largest crop of the target's aspect ratio and the
    result is resized (bilinear) to (height, width), as Keras does.

    In inference, the largest central window of the target's aspect ratio, resized to
    (height, width), as Keras documents (and as Keras 2 did). Keras 3.15's layer instead
    returns the images unchanged in inference, against its documentation and its own
    ``compute_output_shape``, so that a model with a Dense layer after it cannot predict.

    Transformation: ``(top, left)``, two integers.

    Args:
        height, width: the size of the window.
        seed: as every augmentation layer; left None, one is drawn (and saved in the config)
            as Keras does.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> RandomCrop(24, 24)(images)   # (n, 32, 32, 3) -> (n, 24, 24, 3)
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        for name, size in (("height", height), ("width", width)):
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(
                    f"RandomCrop: `{name}` must be a positive integer (the crop's size in "
                    f"pixels). Received: {name}={size!r}"
                )
        if seed is None:
            seed = int(global_random.generator().integers(2**31))
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = height
        self.width = width

    def get_random_transformation(self, data, training=True, seed=None):
        height, width = self._size(data)
        if training and height > self.height and width > self.width:
            rng = self._rng(seed)
            return int(rng.integers(height - self.height + 1)), int(
                rng.integers(width - self.width + 1)
            )
        crop_height = max(min(height, int(width * self.height / self.width)), 1)
        crop_width = max(min(width, int(height * self.width / self.height)), 1)
        return int((height - crop_height) / 2), int((width - crop_width) / 2)

    def transform_images(self, images, transformation, training=True):
        images = self._as_dtype(images)
        size = (self.height, self.width)
        if not training:
            return resize(images, size, crop_to_aspect_ratio=True, data_format=self.data_format)
        top, left = (int(v) for v in transformation)
        height_axis, width_axis = self._spatial_axes()
        index = [slice(None)] * images.ndim
        index[height_axis] = slice(top, top + self.height)
        index[width_axis] = slice(left, left + self.width)
        images = images[tuple(index)]
        if (images.shape[height_axis], images.shape[width_axis]) != size:
            images = resize(images, size, data_format=self.data_format)
        return images

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        height_axis, width_axis = self._spatial_axes()
        shape[height_axis], shape[width_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


@registry.serializable("keras.layers")
class RandomShear(_AffineLayer):
    """Shears each image: the output samples the input at

        x' = x + sx y,   y' = sy x + y

    (about the top-left corner, as Keras does), sx drawn uniformly from the ``x_factor`` range
    and sy from ``y_factor``, both negated together for half the images (one coin per image).
    A number f gives [-f, f], a pair (a, b) gives [a, b]. The identity in inference.

    Transformation: ``{"shear_factor": (n, 2)}``, the pairs [sx, sy].

    Args:
        x_factor, y_factor: a number in [0, 1] or a pair in [-1, 1]; default 0 (no shear).
        interpolation, fill_mode, fill_value, data_format, seed: as RandomRotation.

    Example:
        >>> RandomShear(x_factor=0.2)(images)
    """

    def __init__(
        self,
        x_factor=0.0,
        y_factor=0.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor = self._parse(x_factor, "x_factor")
        self.y_factor = self._parse(y_factor, "y_factor")

    @staticmethod
    def _parse(factor, argument):
        """A number f in [0, 1] as (-f, f); a pair as given, each end in [-1, 1] (Keras asks
        for [0, 1], which refuses the (-f, f) its own config saves)."""
        if isinstance(factor, (tuple, list)):
            return factor_range("RandomShear", argument, factor, (-1, 1), each=True)
        upper = factor_range("RandomShear", argument, factor, (0, 1))[1]
        return -upper, upper

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        rng, shape = self._rng(seed), (self._batch_size(data), 1)
        sign = np.where(rng.uniform(0, 1, shape) > 0.5, -1.0, 1.0)
        shear_y = rng.uniform(*self.y_factor, shape)
        shear_x = rng.uniform(*self.x_factor, shape)
        return {
            "shear_factor": (np.concatenate([shear_x, shear_y], axis=1) * sign).astype(np.float32)
        }

    def _matrix(self, transformation, height, width):
        shear = np.asarray(transformation["shear_factor"], np.float32).reshape(-1, 2)
        ones, zeros = np.ones(len(shear), np.float32), np.zeros(len(shear), np.float32)
        return np.stack([ones, shear[:, 0], zeros, shear[:, 1], ones, zeros, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor}
