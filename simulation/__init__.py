"""Outside-In: an agent-based model of Gulati's outside-in organization on Mesa."""

from simulation.errors import OutsideInError, ParameterError
from simulation.model import OrgModel
from simulation.params import LEVERS, PARAMETERS, FirmSpec, ModelParams, SegmentSpec
from simulation.structures import PRESETS

__all__ = ["LEVERS", "PARAMETERS", "PRESETS", "FirmSpec", "ModelParams", "OrgModel",
           "OutsideInError", "ParameterError", "SegmentSpec"]
