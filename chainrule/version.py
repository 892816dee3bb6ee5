"""The version of chainrule, in one place (read by the package, the saved files and the build)."""

__version__ = "0.1.0"
