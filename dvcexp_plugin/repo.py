"""Where the DVC repository is, and what its ``.dvc/config`` says."""
from __future__ import annotations

import os
from functools import cached_property

from dvcexp_plugin.errors import DvcExpError, NotADvcRepoError


class ConfigError(DvcExpError):
    """``.dvc/config`` cannot be read."""

DVC_DIR = ".dvc"


def find_root(start: str | None = None) -> str:
    """The nearest directory at or above ``start`` that holds ``.dvc/``.

    :raises NotADvcRepoError: when there is none
    """
    path = os.path.abspath(start or os.getcwd())
    while True:
        if os.path.isdir(os.path.join(path, DVC_DIR)):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            raise NotADvcRepoError(
                "you are not inside of a DVC repository (checked up to mount point "
                f"'{path}'); run 'dvc init' in the project's git repository first"
            )
        path = parent


def read_config(root: str) -> dict[str, dict[str, str]]:
    """``.dvc/config`` merged with ``.dvc/config.local`` (local wins), by section.

    Section names are kept as DVC writes them (``cache``, ``core``,
    ``'remote "storage"'``); values keep their quotes (see :func:`unquote`).

    :raises ConfigError: a file is not valid INI
    """
    import configparser  # lazily: exp show answered from its cache reads no config

    merged: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local"):
        path = os.path.join(root, DVC_DIR, name)
        # DVC writes configobj INI: no interpolation, duplicates tolerated
        parser = configparser.ConfigParser(
            interpolation=None,
            strict=False,
            inline_comment_prefixes=("#", ";"),
            default_section="\x00no-default",
        )
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"cannot parse '{path}' ({first}); fix its INI syntax") from None
        for section in parser.sections():
            merged.setdefault(section.strip(), {}).update(dict(parser.items(section)))
    return merged


def unquote(value: str) -> str:
    """A config value without the quotes configobj may put around it."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].strip()
    return value


class Repo:
    """A DVC repository on disk.

    A plain class: :func:`find_root` is on the path of ``exp show`` answered
    from its cache, where importing :mod:`dataclasses` would cost ~10 ms.

    :param root: absolute path of the directory holding ``.dvc/``
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._config: dict[str, dict[str, str]] | None = None

    def __repr__(self) -> str:
        return f"Repo(root={self.root!r})"

    @classmethod
    def discover(cls, start: str | None = None) -> Repo:
        return cls(find_root(start))

    @property
    def dvc_dir(self) -> str:
        return os.path.join(self.root, DVC_DIR)

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.dvc_dir, "tmp")

    @property
    def config(self) -> dict[str, dict[str, str]]:
        if self._config is None:
            self._config = read_config(self.root)
        return self._config

    @cached_property
    def parsing_config(self) -> dict[str, str]:
        """DVC's ``parsing`` section (``bool``, ``list``) for dict→CLI rendering."""
        return dict(self.config.get("parsing", {}))
