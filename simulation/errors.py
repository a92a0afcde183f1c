"""The project's own exception classes.

User mistakes (a parameter out of range, an unknown structure) raise these, never a bare
``Exception``, so that every face of the model (CLI, app, experiments) can tell a bad input
from a bug and report the first as one clear line a problem.
"""

from __future__ import annotations


class OutsideInError(Exception):
    """Base class of every error this package raises on purpose.

    Attributes:
        exit_code: the command line's exit code for it: 2, a user mistake.

    """

    exit_code: int = 2


class RunFailedError(OutsideInError):
    """Something failed while working (a full disk, a lost cluster), not a user mistake.

    Reported in one line with exit code 1; the work done so far is kept, so the same command
    resumes it.
    """

    exit_code = 1


class ParameterError(OutsideInError, ValueError):
    """A model parameter is missing, of the wrong type or outside its allowed range.

    The message always names the parameter and what is allowed, e.g.
    ``turbulence = 2.0 is outside [0, 0.5]``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
