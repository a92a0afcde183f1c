"""The project's own exception classes.

User mistakes (a parameter out of range, an unknown structure) raise these, never a bare
``Exception``, so that every face of the model (CLI, app, experiments) can tell a bad input
from a bug and report the first as one clear line.
"""

from __future__ import annotations


class OutsideInError(Exception):
    """Base class of every error this package raises on purpose."""


class ParameterError(OutsideInError, ValueError):
    """A model parameter is missing, of the wrong type or outside its allowed range.

    The message always names the parameter and what is allowed, e.g.
    ``turbulence = 2.0 is outside [0, 0.5]``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
