"""``keras.preprocessing.image``: images between files, Pillow and NumPy, and ``smart_resize``
(see ``chainrule.keras.utils.images``)."""

from ..utils.images import array_to_img, img_to_array, load_img, save_img, smart_resize

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
