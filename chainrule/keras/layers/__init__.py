"""Keras layers: ``from chainrule.keras.layers import Dense``."""

from .base import Layer
from .core import Activation, Dense, Input, InputLayer
