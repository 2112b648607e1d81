"""Carrel: a local-first AI workbench for the desktop."""

__version__ = "0.1.0"
