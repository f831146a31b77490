"""Exceptions raised by custseg.

Every error a user can cause (a wrong file, column, type, value or option) is a
:class:`CustsegError`. Its message is one line that names the problem and the fix;
the command line prints it without a traceback and exits with code 2.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CustsegError",
    "ConfigError",
    "SourceError",
    "SchemaError",
    "DataError",
    "ModelError",
    "ScoringError",
    "TransactionsError",
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


class TransactionsError(DataError):
    """A table holds transaction lines where one row per customer is needed.

    ``evidence`` (a :class:`custseg.prepare.grain.RowsEvidence`) says why: the rows,
    the repeating customer column and its distinct values, or the columns that look
    like transactions; the command line turns it into the ``custseg features`` command
    to run.
    """

    def __init__(self, message: str, *, evidence: Any) -> None:
        super().__init__(message)
        self.evidence = evidence
