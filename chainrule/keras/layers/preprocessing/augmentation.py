"""What the image augmentation layers share: Keras 3's two-step contract (draw a random
transformation, then apply it), the training switch, one image or a batch, their seeding, and
the parsing of a random factor given as a number or a (low, high) pair.

A layer's ``call(images, training=True)`` is

    transformation = layer.get_random_transformation(images, training, seed)
    outputs = layer.transform_images(images, transformation, training)

so a transformation drawn once can be replayed (or given by hand) on other images. A
transformation is a dict of NumPy arrays under Keras's keys (``"flips"``, ``"rotation_matrix"``,
``"contrast_factor"``...), so one drawn by Keras applies here unchanged. The draw is a constant
of the graph: gradients reach the images through the same warp the forward pass used.

``training`` defaults to True, as in Keras: called by hand the layer augments; inside a model,
``fit`` augments and ``predict``/``evaluate`` do not (they pass training=False).
"""

import numbers

import numpy as np

from .... import random as global_random
from ....ops import cast, expand_dims, squeeze
from ...ops.dtypes import convert_to_tensor
from ..base import Layer
from ..conv import standardize_data_format
from ..regularization import _RandomLayer


def factor_range(owner, argument, factor, bounds, each=False, open_low=False):
    """The (lower, upper) range of a random factor given as a number f or a pair (a, b).

    A number gives (-|f|, |f|), its lower end raised to ``bounds[0]`` (so a factor bounded
    below by 0 gives (0, |f|), as Keras's RandomContrast does); a pair gives (min, max).

    Args:
        owner, argument: the layer and argument named in errors.
        bounds: (low, high), the range the factor must lie in.
        each: check each end of a pair against ``bounds`` (RandomZoom, RandomTranslation);
            otherwise only that the pair overlaps them (Keras's other layers).
        open_low: ``bounds[0]`` itself is excluded (RandomZoom: a zoom of -1 would be 0).

    Raises:
        ValueError: a factor that is neither a number nor a pair, or that is out of bounds.
    """
    low, high = bounds
    opening = "(" if open_low else "["
    error = ValueError(
        f"{owner}: `{argument}` must be a number or a list of two numbers in the range "
        f"{opening}{low}, {high}]. Received: {argument}={factor!r}"
    )

    def in_bounds(value):
        return (value > low if open_low else value >= low) and value <= high

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(isinstance(f, numbers.Real) for f in factor):
            raise error
        if each and not all(in_bounds(f) for f in factor):
            raise error
        if not each and (factor[0] > high or factor[1] < low):
            raise error
        lower, upper = sorted(factor)
        return lower, upper
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        if not in_bounds(factor):
            raise error
        return max(-abs(factor), low), abs(factor)
    raise error


def as_saved(value):
    """A factor or value range as the config holds it: a pair as a tuple (so that a config
    read back from JSON, where it is a list, compares equal), a number as it is."""
    return tuple(value) if isinstance(value, list) else value


def check_choice(owner, argument, value, allowed):
    """Raise a ValueError naming the layer unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{owner}: unknown `{argument}` {value!r}; expected one of {allowed}.")


class ImagePreprocessingLayer(Layer):
    """A layer that transforms images: a batch (n, h, w, c) or one image (h, w, c), channels
    first with ``data_format="channels_first"``.

    ``call`` draws a transformation with ``get_random_transformation`` and applies it to the
    images as a batch with ``transform_images``, which casts them to the layer's dtype and
    calls ``_transform`` in training; subclasses define those two (or override
    ``transform_images`` where Keras's layer does something else in inference).

    Args:
        data_format: "channels_last" (default) or "channels_first".
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)

    def call(self, inputs, training=True):
        self._check_rank(inputs)
        transformation = self.get_random_transformation(inputs, training=training)
        if inputs.ndim == 4:
            return self.transform_images(inputs, transformation, training=training)
        batch = expand_dims(inputs, axis=0)
        return squeeze(self.transform_images(batch, transformation, training=training), axis=0)

    def transform_images(self, images, transformation, training=True):
        """``images`` (a batch) transformed by ``transformation`` in training, as the layer's
        dtype; in inference, only cast."""
        images = self._as_dtype(images)
        if not training or transformation is None:
            return images
        return self._transform(images, transformation)

    def get_random_transformation(self, data, training=True, seed=None):
        """The parameters for ``data`` (a batch or one image): a dict of arrays, or None in
        inference."""
        return None

    def _transform(self, images, transformation):
        raise NotImplementedError

    def _as_dtype(self, images):
        """``images`` (a Tensor or an array) as a Tensor of the layer's dtype."""
        images = convert_to_tensor(images)
        return images if images.dtype == self.dtype else cast(images, dtype=self.dtype)

    def _check_rank(self, inputs):
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects images of rank 3 (one '
                f"image) or 4 (a batch); received shape {tuple(inputs.shape)}."
            )

    def _spatial_axes(self):
        """The (height, width) axes of a batch or an image, counted from the end."""
        return (-2, -1) if self.data_format == "channels_first" else (-3, -2)

    def _size(self, images):
        """(height, width) of a batch or of one image."""
        height_axis, width_axis = self._spatial_axes()
        return images.shape[height_axis], images.shape[width_axis]

    @staticmethod
    def _batch_size(images):
        return images.shape[0] if images.ndim == 4 else 1

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class ImageAugmentationLayer(ImagePreprocessingLayer, _RandomLayer):
    """An image layer that transforms at random in training and passes the images through in
    inference; ``get_random_transformation(data, training, seed)`` draws from ``seed`` (an int
    or a NumPy generator) when given, else from the layer's own generator.

    Args:
        seed: seed of the layer's own generator (default: chainrule's global generator, which
            ``keras.utils.set_random_seed`` reseeds).
        data_format: "channels_last" (default) or "channels_first".
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)

    def _rng(self, seed=None):
        """The generator to draw from: ``seed``'s, else the layer's, else the global one."""
        if isinstance(seed, np.random.Generator):
            return seed
        if seed is not None:
            return np.random.default_rng(seed)
        return self._generator or global_random.generator()
