"""Finding a repository and reading its refs straight from ``.git``, without dulwich.

Read-only commands (``exp show``, ``exp list``) mostly need refs: HEAD, the
branches, a thousand experiment refs. Reading the loose ref files and
``packed-refs`` directly is several times faster than dulwich's generic ref
container (which checks every name with ``check_ref_format``), and importing
dulwich (~50 ms) costs more than the whole read; :class:`~dvcexp_plugin.git.repo.GitRepo`
opens dulwich only when it needs objects. Writes still go through dulwich (:mod:`.refs`).
"""
from __future__ import annotations

import os
import re

from dvcexp_plugin.git.errors import NotAGitRepoError

_SHA = re.compile(r"^[0-9a-f]{40}$")
#: what dulwich's ``check_ref_format`` (git's rules) refuses in a ref name
_BAD_NAME = re.compile(r"^\.|/\.|\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|[/.]$|\.lock$")
#: symbolic refs pointing at symbolic refs are followed this deep, as dulwich
_MAX_DEPTH = 5


def well_formed(name: str) -> bool:
    """Whether ``name`` is a valid full ref name (``refs/...``), by git's rules."""
    return name.startswith("refs/") and _BAD_NAME.search(name) is None


class GitDir:
    """Where a work tree's repository lives.

    A plain class, not a dataclass: ``exp show`` answered from its cache needs
    this module, and importing :mod:`dataclasses` (with :mod:`inspect`) costs ~10 ms.

    :param worktree: the work tree's top directory
    :param controldir: its ``.git`` (for a linked work tree, ``.git/worktrees/<name>``);
        holds HEAD
    :param commondir: the directory holding ``refs/``, ``packed-refs`` and ``objects/``
    """

    __slots__ = ("worktree", "controldir", "commondir")

    def __init__(self, worktree: str, controldir: str, commondir: str) -> None:
        self.worktree = worktree
        self.controldir = controldir
        self.commondir = commondir

    def __repr__(self) -> str:
        return f"GitDir({self.worktree!r}, {self.controldir!r}, {self.commondir!r})"

    @classmethod
    def discover(cls, start: str) -> GitDir:
        """The repository whose work tree holds directory ``start`` (as ``git`` finds it).

        :raises NotAGitRepoError: no ``.git`` above ``start``, or a bare repository
        """
        path = os.path.abspath(start)
        while True:
            dotgit = os.path.join(path, ".git")
            controldir = _control_dir(dotgit)
            if controldir is not None:
                return cls(path, controldir, _common_dir(controldir))
            if _is_bare(path):
                raise NotAGitRepoError(
                    f"'{path}' is a bare git repository; "
                    "run dvcexp inside a clone that has a work tree"
                )
            parent = os.path.dirname(path)
            if parent == path:
                raise NotAGitRepoError(
                    f"'{os.path.abspath(start)}' is not inside a git repository; "
                    "run 'git init' in your project's root first"
                )
            path = parent

    def read_ref(self, name: str) -> str | None:
        """The sha ref ``name`` (``HEAD`` or ``refs/...``) holds, symbolic refs followed."""
        for _ in range(_MAX_DEPTH):
            value = self._value(name)
            if value is None or _SHA.match(value):
                return value
            if not value.startswith("ref: "):
                return None
            name = value[5:].strip()
        return None

    def symbolic_target(self, name: str) -> str | None:
        """The ref ``name`` points to when it is a symbolic ref (HEAD → ``refs/heads/main``)."""
        value = self._loose(name)
        return value[5:].strip() if value and value.startswith("ref: ") else None

    def head_branch(self) -> str | None:
        """The checked-out branch's short name (``main``), or None when HEAD is detached."""
        name, target = "HEAD", self.symbolic_target("HEAD")
        while target is not None and target != name:
            name, target = target, self.symbolic_target(target)
        return name.removeprefix("refs/heads/") if name.startswith("refs/heads/") else None

    def read_refs(self, prefix: str = "refs/") -> dict[str, str]:
        """``{name: sha}`` for every well-formed ref starting with ``prefix``, sorted by name.

        Loose refs win over ``packed-refs``; symbolic refs are followed and dangling
        ones left out.
        """
        values = {n: v for n, v in self._packed().items() if n.startswith(prefix)}
        for name, path in self._loose_files(prefix.rpartition("/")[0]):
            if name.startswith(prefix):
                value = _read_text(path)
                if value is not None:
                    values[name] = value
        found: dict[str, str] = {}
        for name in sorted(values):
            value = values[name]
            sha = value if _SHA.match(value) else self.read_ref(name)
            if sha is not None and well_formed(name):
                found[name] = sha
        return found

    # -- files ---------------------------------------------------------------

    def _ref_path(self, name: str) -> str:
        # HEAD and other pseudo refs belong to the work tree; refs/ are shared
        base = self.commondir if name.startswith("refs/") else self.controldir
        return os.path.join(base, *name.split("/"))

    def _loose(self, name: str) -> str | None:
        if name != "HEAD" and not well_formed(name):
            return None
        return _read_text(self._ref_path(name))

    def _value(self, name: str) -> str | None:
        loose = self._loose(name)
        return loose if loose is not None else self._packed().get(name)

    def _packed(self) -> dict[str, str]:
        try:
            with open(os.path.join(self.commondir, "packed-refs"), "rb") as fobj:
                lines = fobj.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return {}
        found: dict[str, str] = {}
        for line in lines:
            if line.startswith(("#", "^")):
                continue  # the header, and the commit behind the annotated tag above
            sha, _, name = line.partition(" ")
            if _SHA.match(sha) and name:
                found[name] = sha
        return found

    def _loose_files(self, base: str) -> list[tuple[str, str]]:
        """``(name, path)`` of the loose ref files below ``base`` (``refs`` when empty)."""
        found: list[tuple[str, str]] = []
        todo = [base or "refs"]
        while todo:
            folder = todo.pop()
            try:
                entries = list(os.scandir(os.path.join(self.commondir, *folder.split("/"))))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    todo.append(f"{folder}/{entry.name}")
                else:
                    found.append((f"{folder}/{entry.name}", entry.path))
        return found


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as fobj:
            text = fobj.read().decode("utf-8", "replace").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return text or None


def _control_dir(dotgit: str) -> str | None:
    if os.path.isdir(dotgit):
        return dotgit if os.path.exists(os.path.join(dotgit, "HEAD")) else None
    try:
        with open(dotgit, encoding="utf-8") as fobj:
            text = fobj.read().strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    if not text.startswith("gitdir:"):
        return None
    target = os.path.join(os.path.dirname(dotgit), text[len("gitdir:"):].strip())
    return os.path.normpath(target)


def _common_dir(controldir: str) -> str:
    try:
        with open(os.path.join(controldir, "commondir"), encoding="utf-8") as fobj:
            return os.path.normpath(os.path.join(controldir, fobj.read().strip()))
    except FileNotFoundError:
        return controldir


def _is_bare(path: str) -> bool:
    return all(os.path.exists(os.path.join(path, part)) for part in ("HEAD", "objects", "refs"))
