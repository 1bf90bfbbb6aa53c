"""The resolved pipeline model: what one stage of a ``dvc.yaml`` means.

A :class:`Stage` is fully interpolated: ``foreach``/``matrix`` are expanded,
``${}`` is substituted, and paths are kept *as written* (relative to the
stage's ``wdir``), because that is how ``dvc.lock`` records them. Properties
give the repository-relative view that ``stage list --json`` and the graph use.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

#: the file a bare ``params`` key refers to, as in DVC
DEFAULT_PARAMS_FILE = "params.yaml"


def join_repo_path(wdir: str, path: str) -> str:
    """Join a path written in a stage to the stage's repo-relative ``wdir``.

    The result is normalised POSIX (``..`` folded, no trailing slash), "." for
    the root.
    """
    if is_url(path):
        return posixpath.normpath(path)  # DVC normalises URLs too (``https:/x``)
    return posixpath.normpath(posixpath.join(wdir, path))


def is_url(path: str) -> bool:
    """A dependency or output with a scheme (``s3://``, ``https://``) is remote."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.isidentifier() and len(scheme) > 1


@dataclass(frozen=True)
class Output:
    """An entry of ``outs``, ``metrics`` or ``plots``.

    :param path: the path as written in dvc.yaml (relative to ``wdir``)
    :param kind: ``"outs"``, ``"metrics"`` or ``"plots"``
    """

    path: str
    kind: str = "outs"
    cache: bool = True
    persist: bool = False
    push: bool = True
    remote: str | None = None
    desc: str | None = None
    type: str | None = None
    labels: tuple[str, ...] = ()
    meta: Any = None
    checkpoint: bool = False
    #: plot properties (x, y, template, title, header, x_label, y_label)
    plot_props: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ParamsDep:
    """A params file dependency.

    :param path: the params file as written, relative to ``wdir``
    :param keys: the tracked keys, as written (dotted); empty means the whole file
    """

    path: str
    keys: tuple[str, ...] = ()

    @property
    def whole_file(self) -> bool:
        return not self.keys


@dataclass
class Stage:
    """One resolved pipeline stage."""

    name: str
    #: repo-relative POSIX path of the dvc.yaml that defines it
    dvcfile: str
    #: repo-relative POSIX working directory ("." for the root)
    wdir: str
    cmd: str | list[str]
    deps: list[str] = field(default_factory=list)
    params: list[ParamsDep] = field(default_factory=list)
    outs: list[Output] = field(default_factory=list)
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    meta: Any = None
    #: a ``.dvc`` file (data tracked with ``dvc add``/imports): no command; its
    #: "lock entry" is the file itself and its addressing is its path
    data_source: bool = False

    @property
    def dvcfile_dir(self) -> str:
        return posixpath.dirname(self.dvcfile) or "."

    @property
    def lockfile(self) -> str:
        """Repo-relative path of the ``dvc.lock`` beside this stage's dvc.yaml."""
        return posixpath.join(posixpath.dirname(self.dvcfile), "dvc.lock")

    @property
    def addressing(self) -> str:
        """``train`` for the root ``dvc.yaml``, ``sub/dvc.yaml:train`` otherwise."""
        if self.data_source:
            return self.dvcfile
        if self.dvcfile == "dvc.yaml":
            return self.name
        return f"{self.dvcfile}:{self.name}"

    def repo_path(self, path: str) -> str:
        """A path written in this stage, made repo-relative."""
        return join_repo_path(self.wdir, path)

    @property
    def dep_paths(self) -> list[str]:
        """Repo-relative dependency paths (params files excluded)."""
        return [self.repo_path(d) for d in self.deps]

    @property
    def out_paths(self) -> list[str]:
        """Repo-relative output paths (outs, metrics and plots)."""
        return [self.repo_path(o.path) for o in self.outs]

    @property
    def is_callback(self) -> bool:
        """A stage with a command but neither deps nor outs always runs (DVC)."""
        return not self.data_source and not self.deps and not self.params and not self.outs

    @property
    def cmd_text(self) -> str:
        """The command for display: list commands joined as DVC prints them."""
        if isinstance(self.cmd, list):
            return "\n".join(self.cmd)
        return self.cmd

    def outputs_of(self, kind: str) -> list[Output]:
        return [o for o in self.outs if o.kind == kind]
