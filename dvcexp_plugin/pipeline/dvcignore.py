"""``.dvcignore`` rules (gitignore syntax), as DVC applies them.

Every ``.dvcignore`` in the tree applies to paths below its directory. Later
patterns win; ``!`` negates; a trailing ``/`` matches directories only; a
pattern with a ``/`` before its end is anchored to the file's directory.
"""
from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass

IGNORE_FILE = ".dvcignore"
#: never walked: git's and DVC's own directories
ALWAYS_IGNORED = {".git", ".dvc", ".hg"}


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(pattern: str) -> str:
    """gitignore glob → regex over a path relative to the .dvcignore's dir."""
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/") if anchored else pattern.rstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return f"^{prefix}{body}$"


def parse_rules(text: str) -> list[_Rule]:
    """Rules of one ignore file."""
    rules = []
    for raw in text.splitlines():
        # DVC (pathspec) ignores leading blanks: "  !x" negates, "  #x" is a comment
        line = raw.rstrip("\n").lstrip()
        if not line.strip() or line.startswith("#"):
            continue
        if not line.endswith("\\ "):
            line = line.rstrip()
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        if line.startswith("\\"):
            line = line[1:]
        dir_only = line.endswith("/")
        rules.append(_Rule(re.compile(_translate(line)), negate, dir_only))
    return rules


class DvcIgnore:
    """Decides whether a repo-relative path is ignored.

    :param root: absolute repository root
    """

    #: the ignore file read in every directory
    filename = IGNORE_FILE

    def __init__(self, root: str) -> None:
        self.root = root
        self._cache: dict[str, list[_Rule]] = {}

    def _rules(self, reldir: str) -> list[_Rule]:
        if reldir not in self._cache:
            rules = _read_rules(os.path.join(self.root, reldir, self.filename))
            if not reldir:
                rules = self._root_rules() + rules
            self._cache[reldir] = rules
        return self._cache[reldir]

    def _root_rules(self) -> list[_Rule]:
        return []

    def is_ignored(self, relpath: str, is_dir: bool) -> bool:
        """Whether ``relpath`` (POSIX, repo-relative) is ignored, itself or via a parent."""
        parts = relpath.split("/")
        if any(p in ALWAYS_IGNORED for p in parts):
            return True
        # the common case: no rules in any directory above it (one lookup per level)
        reldir, has_rules = "", bool(self._rules(""))
        for part in parts[:-1]:
            if has_rules:
                break
            reldir = f"{reldir}/{part}" if reldir else part
            has_rules = bool(self._rules(reldir))
        if not has_rules:
            return False
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            sub_is_dir = is_dir or depth < len(parts)
            if self._matches(sub, sub_is_dir):
                return True
        return False

    def _matches(self, relpath: str, is_dir: bool) -> bool:
        ignored = False
        parts = relpath.split("/")
        for depth in range(len(parts)):
            reldir = "/".join(parts[:depth]) or "."
            rest = "/".join(parts[depth:])
            for rule in self._rules(reldir if reldir != "." else ""):
                if rule.dir_only and not is_dir:
                    continue
                if rule.regex.match(rest):
                    ignored = not rule.negate
        return ignored

    def walk_filter(self, reldir: str, names: list[str], dirpath_abs: str) -> list[str]:
        """The subdirectory names of ``reldir`` that are not ignored."""
        kept = []
        for name in names:
            rel = posixpath.join(reldir, name) if reldir not in ("", ".") else name
            if not self.is_ignored(rel, is_dir=True):
                kept.append(name)
        return kept


class GitIgnore(DvcIgnore):
    """``.gitignore`` files and ``.git/info/exclude``.

    DVC does not collect a dvc.yaml that git ignores, nor look inside an ignored
    directory (``dvc stage list --all`` skips them).
    """

    filename = ".gitignore"

    def _root_rules(self) -> list[_Rule]:
        return _read_rules(os.path.join(self.root, ".git", "info", "exclude"))


def _read_rules(path: str) -> list[_Rule]:
    try:
        with open(path, encoding="utf-8") as fobj:
            return parse_rules(fobj.read())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
        return []
