"""The one exception root of dvcexp.

Every error a user can cause is a :class:`DvcExpError` (or a subclass). Its
message is a single line that names the problem and, where there is one, the
fix. The CLI boundary prints it as ``ERROR: <message>`` and exits non-zero; no
code below the CLI prints errors or calls ``sys.exit``.
"""
from __future__ import annotations


class DvcExpError(Exception):
    """Root of every user-facing error."""

    #: exit code the CLI uses for this error (DVC uses 255 for its errors)
    exit_code = 255


class NotADvcRepoError(DvcExpError):
    """No ``.dvc`` directory was found in the working directory or above."""


class YAMLFileCorruptedError(DvcExpError):
    """A YAML file could not be parsed."""


class DvcFileSyntaxError(DvcExpError):
    """A dvc.yaml or dvc.lock does not follow the schema."""


class ResolveError(DvcExpError):
    """Interpolation, ``vars``, ``foreach`` or ``matrix`` could not be resolved."""


class PipelineError(DvcExpError):
    """The pipeline as a whole is invalid (cycle, duplicate outputs, name clash)."""


class StageNotFoundError(DvcExpError):
    """A target names no stage."""


class ParamsFileError(DvcExpError):
    """A params file is missing, unreadable or of an unknown format."""


class CacheError(DvcExpError):
    """A cache object is missing or cannot be written."""


class LockfileError(DvcExpError):
    """dvc.lock is unreadable or of an unsupported schema."""


class InvalidSetParamError(DvcExpError):
    """A ``-S/--set-param`` override cannot be parsed or applied."""
