"""Models: ``from chainrule.keras.models import Sequential``."""

from .model import Model
from .sequential import Sequential
