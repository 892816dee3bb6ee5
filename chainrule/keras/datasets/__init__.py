"""Ready-made datasets, as `keras.datasets`: each submodule has a `load_data()`.

`mnist` ships inside the package; `fashion_mnist` is downloaded on first use and cached.
"""

from . import fashion_mnist, mnist

__all__ = ["fashion_mnist", "mnist"]
