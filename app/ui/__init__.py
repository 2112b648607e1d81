"""Carrel's desktop face: the only package that imports PySide6."""
