"""Ready-made datasets, as `keras.datasets`: each submodule has a `load_data()`.

`mnist` ships inside the package; `fashion_mnist`, `cifar10`, `imdb` and `reuters` are
downloaded on first use and cached.
"""

from . import cifar10, fashion_mnist, imdb, mnist, reuters

__all__ = ["cifar10", "fashion_mnist", "imdb", "mnist", "reuters"]
