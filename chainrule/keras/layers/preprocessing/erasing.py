"""``keras.layers.RandomErasing``: a random rectangle of each image replaced by a fill."""

import numbers

import numpy as np

from .... import ops
from ... import registry
from .augmentation import ImageAugmentationLayer, as_saved, factor_range
from .colour import check_value_range


@registry.serializable("keras.layers")
class RandomErasing(ImageAugmentationLayer):
    """Erases a rectangle of each image, with a probability p drawn per image uniformly from
    the ``factor`` range. The rectangle's width and height are √s_w W and √s_h H, s_w and s_h
    drawn uniformly from the ``scale`` range, and it starts at a uniform fraction of the room
    left on each axis:

        x0 = u (W - √s_w W),  x1 = x0 + √s_w W   (pixels x0 <= x < x1; rows likewise).

    Inside it the image takes ``fill_value``: a number, one value per channel (three), or,
    when None, Gaussian noise times the range's top, N(0, 1) value_range[1]; the fill is
    clipped to ``value_range``. The identity in inference. dL/dx = dL/dy outside the erased
    rectangle, 0 inside.

    Transformation: ``{"apply_erasing": bool (n,), "batch_masks": bool (n, h, w, c),
    "fill_value": the images' shape}``.

    Args:
        factor: a number in [0, 1] or a pair; default 1.0 (p uniform in [0, 1]).
        scale: a number or a pair in [0, 1], the rectangle's area fractions; default
            (0.02, 0.33).
        fill_value: None (default), a number or three numbers.
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed, data_format: as every augmentation layer.
    """

    def __init__(
        self,
        factor=1.0,
        scale=(0.02, 0.33),
        fill_value=None,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range("RandomErasing", "factor", factor, (0, 1))
        self.scale = factor_range("RandomErasing", "scale", scale, (0, 1))
        is_number = isinstance(fill_value, numbers.Real) and not isinstance(fill_value, bool)
        is_triple = isinstance(fill_value, (tuple, list)) and len(fill_value) == 3
        if fill_value is not None and not (is_number or is_triple):
            raise ValueError(
                "RandomErasing: `fill_value` must be None, a number or a list of three numbers "
                f"(one per channel). Received: fill_value={fill_value!r}"
            )
        self.fill_value = as_saved(fill_value)
        self.value_range = as_saved(check_value_range("RandomErasing", value_range))

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        rng, n = self._rng(seed), self._batch_size(data)
        height, width = self._size(data)
        sides = np.sqrt(rng.uniform(*self.scale, (n, 2)))

        def span(length, fraction):
            size = fraction * length
            start = rng.uniform(0, 1, n) * (length - size)
            return start, start + size

        x0, x1 = span(width, sides[:, 0])
        y0, y1 = span(height, sides[:, 1])
        probability = rng.uniform(*self.factor, n)
        apply = rng.uniform(0, 1, n) < probability
        rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")

        def inside(lo, hi, grid):
            return (grid >= lo[:, None, None]) & (grid < hi[:, None, None])

        masks = inside(x0, x1, cols) & inside(y0, y1, rows)  # (n, h, w)
        channel_axis = 1 if self.data_format == "channels_first" else 3
        channels = data.shape[channel_axis - 4]
        masks = np.repeat(np.expand_dims(masks, channel_axis), channels, axis=channel_axis)
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": self._fill(data, rng)}

    def _fill(self, data, rng):
        """The fill, shaped as ``data`` and clipped to the value range."""
        if self.fill_value is None:
            fill = rng.standard_normal(data.shape) * self.value_range[1]
        elif isinstance(self.fill_value, tuple):
            per_channel = np.asarray(self.fill_value, np.float64)
            if self.data_format == "channels_first":
                per_channel = per_channel[:, None, None]
            fill = np.broadcast_to(per_channel, data.shape)
        else:
            fill = np.full(data.shape, self.fill_value, np.float64)
        return np.clip(fill, *self.value_range).astype(np.float32)

    def _transform(self, images, transformation):
        masks = np.asarray(transformation["batch_masks"], dtype=bool)
        apply = np.asarray(transformation["apply_erasing"], dtype=bool).reshape(-1, 1, 1, 1)
        fill = np.asarray(transformation["fill_value"], dtype=images.dtype)
        return ops.where(masks & apply, fill, images)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
        }
