"""Outside-In: an agent-based model of Gulati's outside-in organization on Mesa."""

from typing import TYPE_CHECKING, Any

from simulation.errors import OutsideInError, ParameterError
from simulation.params import PARAMETERS, FirmSpec, ModelParams, SegmentSpec
from simulation.presets import LEVERS, PRESETS

if TYPE_CHECKING:
    from simulation.model import OrgModel


def __getattr__(name: str) -> Any:
    # The model (and Mesa with it) is imported on first use, not with the package: a
    # process that only reads parameters or scenarios (a sweep's coordinator, a CLI command
    # that checks its input) does not load it.
    if name == "OrgModel":
        from simulation.model import OrgModel  # deferred: Mesa is heavy (see above)

        return OrgModel
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


__version__ = "0.2.0"
"""The program's version, written here only: the build reads it, and so do ``--version`` and
every output's manifest. A release is tagged ``v`` + this in git (see CONTRIBUTING.md)."""

__all__ = ["LEVERS", "PARAMETERS", "PRESETS", "FirmSpec", "ModelParams", "OrgModel",
           "OutsideInError", "ParameterError", "SegmentSpec", "__version__"]
