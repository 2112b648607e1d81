"""Generation: one small `Backend` protocol and its implementations."""

from app.engine.backend import (
    Backend,
    Done,
    Event,
    Generation,
    GenerationParams,
    GenerationStats,
    Token,
)

__all__ = [
    "Backend",
    "Done",
    "Event",
    "Generation",
    "GenerationParams",
    "GenerationStats",
    "Token",
]
