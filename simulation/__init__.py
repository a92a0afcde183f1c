"""Outside-In: an agent-based model of Gulati's outside-in organization on Mesa."""

from simulation.errors import OutsideInError, ParameterError
from simulation.model import OrgModel
from simulation.params import LEVERS, PARAMETERS, FirmSpec, ModelParams, SegmentSpec
from simulation.structures import PRESETS

__version__ = "0.2.0"
"""The program's version, written here only: the build reads it, and so do ``--version`` and
every output's manifest. A release is tagged ``v`` + this in git (see CONTRIBUTING.md)."""

__all__ = ["LEVERS", "PARAMETERS", "PRESETS", "FirmSpec", "ModelParams", "OrgModel",
           "OutsideInError", "ParameterError", "SegmentSpec", "__version__"]
