"""The errors of evaluation: a missing test set or run, a file that cannot be imported."""

from __future__ import annotations

from app.errors import CarrelError


class EvaluateError(CarrelError):
    """Something an evaluation cannot do, said so a person can act on it."""


class TestSetNotFoundError(EvaluateError):
    """No test set of that name."""

    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, name: str) -> None:
        super().__init__(
            f"There is no test set '{name}'. 'carrel eval sets list' shows the test sets."
        )


class RunNotFoundError(EvaluateError):
    """No run with that number."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"There is no evaluation run {run_id}. 'carrel eval runs' lists them.")


class ImportSetError(EvaluateError):
    """A test-set file that cannot be read; nothing of it was imported."""
