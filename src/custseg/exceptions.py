"""Exceptions raised by custseg.

Every error a user can cause (a wrong file, column, type, value or option) is a
:class:`CustsegError`. Its message is one line that names the problem and the fix;
the command line prints it without a traceback and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "CustsegError",
    "ConfigError",
    "SourceError",
    "SchemaError",
    "DataError",
    "ModelError",
    "ScoringError",
]


class CustsegError(Exception):
    """Base class of every error caused by input, options or files."""


class ConfigError(CustsegError, ValueError):
    """An option or a configuration value is not valid."""


class SourceError(CustsegError):
    """A warehouse, a query or a data file could not be read."""


class SchemaError(CustsegError):
    """A table does not have the columns or types that the task needs."""


class DataError(CustsegError, ValueError):
    """The values of a table cannot be used (too few rows, no usable feature, ...)."""


class ModelError(CustsegError):
    """A model file is missing, tampered with, of an unknown version or inconsistent."""


class ScoringError(CustsegError):
    """New customers cannot be scored with a model."""
