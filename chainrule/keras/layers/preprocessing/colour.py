"""Colour image augmentation, as Keras 3's layers: RandomContrast and RandomBrightness (one
random factor per image, the result clipped to the images' ``value_range``), RandomGrayscale,
RandomInvert and Solarization (random per image), and AutoContrast (not random)."""

import numpy as np

from .... import ops
from ... import registry
from ...ops.image import rgb_to_grayscale
from .augmentation import ImageAugmentationLayer, ImagePreprocessingLayer, as_saved, factor_range


def check_value_range(owner, value_range):
    """``value_range``, once checked to be a pair (the images' lowest and highest values)."""
    if (
        not isinstance(value_range, (tuple, list))
        or len(value_range) != 2
        or not value_range[0] < value_range[1]
    ):
        raise ValueError(
            f"{owner}: `value_range` must be a list of two numbers, the images' lowest and "
            f"highest values (the lowest first). Received: value_range={value_range!r}"
        )
    return value_range


class _ColourLayer(ImageAugmentationLayer):
    """An augmentation that moves pixel values by a random amount per image and clips them to
    ``value_range``, as the layer's dtype; in inference it returns the images as they are (not
    cast), as Keras's colour layers do."""

    def __init__(self, factor, value_range=(0, 255), seed=None, bounds=(-1, 1), **kwargs):
        super().__init__(seed=seed, **kwargs)
        owner = type(self).__name__
        self.factor = factor_range(owner, "factor", factor, bounds)
        self.value_range = as_saved(check_value_range(owner, value_range))

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        low, high = self.value_range
        return ops.clip(self._adjust(self._as_dtype(images), transformation), low, high)

    def _draw(self, data, training, seed, low, high):
        """Uniform draws in [low, high), one per image, shaped to broadcast over a batch (or
        one image); zeros in inference."""
        shape = (data.shape[0], 1, 1, 1) if data.ndim == 4 else (1, 1, 1)
        if not training:
            return np.zeros(shape, np.float32)
        return self._rng(seed).uniform(low, high, shape).astype(np.float32)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
        }


@registry.serializable("keras.layers")
class RandomContrast(_ColourLayer):
    """Scales each image's deviation from its mean, channel by channel:

        y = clip((x - m) c + m, value_range),   m = the mean of x over height and width,

    with c drawn uniformly per image from [1 - lower, 1 + upper]. A number f gives the range
    (0, f) — so, as in Keras 3, c lies in [1, 1 + f] and the contrast only grows; a pair (a, b)
    gives [1 - a, 1 + b]. The identity in inference.

    Transformation: ``{"contrast_factor": (n, 1, 1, 1)}``.

    Args:
        factor: a number in [0, 1] or a pair.
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed: as every augmentation layer.

    Example:
        >>> RandomContrast(0.2, value_range=(0, 1))(images)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor, value_range, seed, bounds=(0, 1), **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        lower, upper = self.factor
        return {"contrast_factor": self._draw(data, training, seed, 1.0 - lower, 1.0 + upper)}

    def _adjust(self, images, transformation):
        height_axis, width_axis = self._spatial_axes()
        mean = ops.mean(images, axis=(height_axis, width_axis), keepdims=True)
        factor = np.asarray(transformation["contrast_factor"], dtype=images.dtype)
        return (images - mean) * factor + mean


@registry.serializable("keras.layers")
class RandomBrightness(_ColourLayer):
    """Adds to each image one random offset, the same for every pixel and channel:

        y = clip(x + d (high - low), value_range),   (low, high) = value_range,

    with d drawn uniformly per image from the ``factor`` range (f gives [-f, f]). The identity
    in inference. dL/dx = dL/dy inside the range, 0 where clipped.

    Transformation: ``{"rgb_delta": (n, 1, 1, 1)}``, the offset d (high - low).

    Args:
        factor: a number in [-1, 1] or a pair, as a fraction of the value range.
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed: as every augmentation layer.

    Example:
        >>> RandomBrightness(0.2)(images)   # offsets of up to ±51 on 0..255 images
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor, value_range, seed, **kwargs)
        self.value_range = sorted(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        low, high = self.value_range
        delta = self._draw(data, training, seed, *self.factor)
        return {"rgb_delta": delta * np.float32(high - low)}

    def _adjust(self, images, transformation):
        return images + np.asarray(transformation["rgb_delta"], dtype=images.dtype)


def _coin_per_image(layer, data, seed, probability):
    """Booleans (n,), each True with ``probability``, one per image of ``data``."""
    return layer._rng(seed).uniform(0, 1, layer._batch_size(data)) < probability


def _rescale(images, source, target):
    """``images`` mapped linearly from the value range ``source`` to ``target``."""
    (a, b), (c, d) = source, target
    if (a, b) == (c, d):
        return images
    return (images - a) * ((d - c) / (b - a)) + c


@registry.serializable("keras.layers")
class RandomGrayscale(ImageAugmentationLayer):
    """Turns each RGB image to grayscale with probability ``factor``: its three channels all
    become 0.2989 R + 0.5870 G + 0.1140 B (``keras.ops.image.rgb_to_grayscale``). The identity
    in inference.

    Transformation: bool (n, 1, 1, 1), which images turn gray.

    Args:
        factor: the probability, in [0, 1]; default 0.5.
        data_format, seed: as every augmentation layer.
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not 0 <= factor <= 1:
            raise ValueError(
                f"RandomGrayscale: `factor` must be a probability in [0, 1]. Received: "
                f"factor={factor!r}"
            )
        self.factor = factor

    def get_random_transformation(self, data, training=True, seed=None):
        return _coin_per_image(self, data, seed, self.factor).reshape(-1, 1, 1, 1)

    def _transform(self, images, transformation):
        gray = rgb_to_grayscale(images, data_format=self.data_format)
        return ops.where(np.asarray(transformation, dtype=bool), gray, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@registry.serializable("keras.layers")
class RandomInvert(ImageAugmentationLayer):
    """Inverts each image, y = high - x with (low, high) = ``value_range``, with a
    probability p drawn per image uniformly from the ``factor`` range (a number f gives
    [0, f]). The identity in inference.

    Transformation: ``{"apply_inversion": bool (n,)}``.

    Args:
        factor: a number in [0, 1] or a pair; default 1.0 (p uniform in [0, 1]: half the
            images on average).
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed, data_format: as every augmentation layer.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range("RandomInvert", "factor", factor, (0, 1))
        self.value_range = as_saved(check_value_range("RandomInvert", value_range))

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        rng = self._rng(seed)
        probability = rng.uniform(*self.factor, self._batch_size(data))
        return {"apply_inversion": _coin_per_image(self, data, rng, probability)}

    def _transform(self, images, transformation):
        invert = np.asarray(transformation["apply_inversion"], dtype=bool).reshape(-1, 1, 1, 1)
        return ops.where(invert, self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


@registry.serializable("keras.layers")
class Solarization(ImageAugmentationLayer):
    """Solarizes each image: with x on the 0..255 scale (mapped from ``value_range``),

        s = clip(x + a, 0, 255),   y = s where s < t, else 255 - s,

    mapped back to ``value_range``, with the addition a and the threshold t drawn per image
    uniformly from [lower, 255 upper] of ``addition_factor`` and ``threshold_factor`` (a number
    f gives (0, f); Keras scales only the upper end by 255). The identity in inference.

    Transformation: ``{"additions": (n, 1, 1, 1), "thresholds": (n, 1, 1, 1)}``.

    Args:
        addition_factor, threshold_factor: a number or a pair, each in [0, 1]; default 0 (with
            a threshold of 0, every pixel is inverted).
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed: as every augmentation layer.
    """

    def __init__(
        self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs
    ):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._parse(addition_factor, "addition_factor")
        self.threshold_factor = self._parse(threshold_factor, "threshold_factor")
        self.value_range = sorted(check_value_range("Solarization", value_range))

    @staticmethod
    def _parse(factor, argument):
        return factor_range("Solarization", argument, factor, (0, 1), each=True)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        rng = self._rng(seed)
        shape = (self._batch_size(data), 1, 1, 1)

        def draw(factor):
            return rng.uniform(factor[0], factor[1] * 255, shape).astype(np.float32)

        return {"additions": draw(self.addition_factor), "thresholds": draw(self.threshold_factor)}

    def _transform(self, images, transformation):
        images = _rescale(images, self.value_range, (0, 255))
        shifted = ops.clip(images + np.asarray(transformation["additions"], images.dtype), 0, 255)
        thresholds = np.asarray(transformation["thresholds"], images.dtype)
        return _rescale(
            ops.where(shifted < thresholds, shifted, 255 - shifted), (0, 255), self.value_range
        )

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "addition_factor": self.addition_factor,
            "threshold_factor": self.threshold_factor,
        }


@registry.serializable("keras.layers")
class AutoContrast(ImagePreprocessingLayer):
    """Stretches each channel of each image to the full ``value_range``: with x on the 0..255
    scale, lo and hi its channel's minimum and maximum over the image,

        y = clip((x - lo) 255 / (hi - lo), 0, 255),

    mapped back to ``value_range``; a constant channel (hi = lo) is left as it is. Not random,
    and applied in inference too, as in Keras.

    Args:
        value_range: the images' (lowest, highest) values, default (0, 255).
        data_format: "channels_last" (default) or "channels_first".
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = sorted(check_value_range("AutoContrast", value_range))

    def transform_images(self, images, transformation=None, training=True):
        original = self._as_dtype(images)
        images = _rescale(original, self.value_range, (0, 255))
        axes = self._spatial_axes()
        low = ops.min(images, axis=axes, keepdims=True)
        high = ops.max(images, axis=axes, keepdims=True)
        constant = (high - low).numpy() == 0
        span = ops.where(constant, 1.0, high - low)
        stretched = ops.clip((images - low) * (255.0 / span), 0.0, 255.0)
        return ops.where(constant, original, _rescale(stretched, (0, 255), self.value_range))

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}
