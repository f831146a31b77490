"""custseg: behavioural segmentation of credit-card customers."""

from ._version import __version__
from .exceptions import CustsegError
from .model import SegmentationModel, load_model, save_model

__all__ = ["__version__", "CustsegError", "SegmentationModel", "load_model", "save_model"]
