"""Params-file editors for ``-S/--set-param``: read a file, hand its values
out as plain data, and write new values back the way DVC does.

DVC (``dvc/utils/serialize``) picks the format from the suffix: ``.json``,
``.toml``, ``.py``; anything else is YAML. Its edit is a merge: the new data is
merged key by key into the structure it loaded (``merge_dicts``), keys that
disappeared are dropped (``remove_missing_keys``), and the structure is dumped
again. What survives therefore depends on the format:

* YAML: ruamel.yaml round trip. Comments, key order, block-scalar styles and
  untouched scalars survive. Every list is replaced, so list comments and flow
  style go; quotes that are not needed, indentation and directives go too, and
  ``${...}`` interpolations come back resolved (OmegaConf resolves them).
* JSON: rewritten compact (``json.dumps`` defaults), without a final newline.
* TOML: tomlkit round trip; comments and layout survive.
* Python: the source is edited in place (see :mod:`dvcexp_plugin.params_edit_py`).

A missing file reads as ``{}``, so ``+key=value`` creates it (not for ``.py``).
Nothing here imports hydra; :mod:`dvcexp_plugin.params` does the overriding.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable
from typing import Any, Protocol

from dvcexp_plugin.errors import InvalidSetParamError, ParamsFileError


class ParamsDocument(Protocol):
    """One params file loaded for editing."""

    def data(self) -> Any:
        """The values as plain dicts and lists (what OmegaConf is given)."""

    def updated_text(self, new: dict[Any, Any]) -> str:
        """The file's text once ``new`` is merged in (the document is spent)."""


def open_document(path: str, shown_as: str | None = None) -> ParamsDocument:
    """Load ``path`` for editing; a missing file is an empty document.

    :param path: the file on disk
    :param shown_as: the name used in error messages (as the user wrote it)
    :raises ParamsFileError: when the file cannot be read or parsed
    """
    name = shown_as or path
    try:
        with open(path, encoding="utf-8") as fobj:
            text: str | None = fobj.read()
    except FileNotFoundError as exc:
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise ParamsFileError(f"[Errno 2] No such file or directory: '{name}'") from exc
        text = None
    except UnicodeDecodeError as exc:
        raise ParamsFileError(f"unable to read: '{name}', is not valid utf-8") from exc
    except OSError as exc:
        raise ParamsFileError(f"unable to read: '{name}', {exc.strerror}") from exc
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        return JsonDocument(text, name)
    if suffix == ".toml":
        return TomlDocument(text, name)
    if suffix == ".py":
        from dvcexp_plugin.params_edit_py import PyDocument

        return PyDocument(text, name)
    return YamlDocument(text, name)


def plain(item: Any) -> Any:
    """Dicts and lists (also ruamel/tomlkit subclasses) copied as plain ones."""
    if isinstance(item, dict):
        return {key: plain(value) for key, value in item.items()}
    if isinstance(item, list):
        return [plain(value) for value in item]
    return item


def merge_into(target: Any, new: dict[Any, Any]) -> None:
    """Merge ``new`` into the loaded ``target`` in place, as DVC does.

    Mappings present on both sides are merged key by key, so the loader's
    containers (with their comments and styles) survive; every other value,
    lists included, is assigned anew. Keys missing from ``new`` are removed.
    """
    for key, value in new.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge_into(current, value)
        else:
            target[key] = value
    for key in [key for key in target if key not in new]:
        del target[key]


class YamlDocument:
    """A YAML params file, edited with ruamel.yaml's round-trip mode."""

    def __init__(self, text: str | None, name: str) -> None:
        self.name = name
        self._tree: Any = {}
        if text is not None:
            from ruamel.yaml import YAML
            from ruamel.yaml.error import YAMLError

            try:
                # DVC: ``yaml.load(text) or {}``; a document without keys is a new dict
                self._tree = YAML(typ="rt").load(text) or {}
            except YAMLError as exc:
                raise ParamsFileError(
                    f"unable to read: '{name}', YAML file structure is corrupted: "
                    f"{_yaml_problem(exc)}"
                ) from exc

    def data(self) -> Any:
        return plain(self._tree)

    def updated_text(self, new: dict[Any, Any]) -> str:
        from ruamel.yaml import YAML
        from ruamel.yaml.representer import RepresenterError

        merge_into(self._tree, new)
        yaml = YAML()
        yaml.default_flow_style = False
        stream = io.StringIO()
        try:
            yaml.dump(self._tree, stream)
        except RepresenterError as exc:
            raise InvalidSetParamError(
                f"Invalid `--set-param` value: cannot write '{self.name}': {exc}"
            ) from exc
        return stream.getvalue()


def _yaml_problem(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    if not problem:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else str(problem)
    mark = getattr(exc, "problem_mark", None)
    return f"{text} (line {mark.line + 1}, column {mark.column + 1})" if mark else text


class JsonDocument:
    """A JSON params file; DVC writes it back compact, without a final newline."""

    def __init__(self, text: str | None, name: str) -> None:
        self.name = name
        self._data: Any = {}
        if text is not None:
            try:
                self._data = json.loads(text) or {}
            except json.JSONDecodeError as exc:
                raise ParamsFileError(
                    f"unable to read: '{name}', JSON file structure is corrupted: {exc}"
                ) from exc

    def data(self) -> Any:
        return plain(self._data)

    def updated_text(self, new: dict[Any, Any]) -> str:
        merge_into(self._data, new)
        try:
            return json.dumps(self._data)
        except (TypeError, ValueError) as exc:
            raise InvalidSetParamError(
                f"Invalid `--set-param` value: cannot write '{self.name}': {exc}"
            ) from exc


class TomlDocument:
    """A TOML params file, edited with tomlkit (comments and layout survive)."""

    def __init__(self, text: str | None, name: str) -> None:
        self.name = name
        self._doc: Any = {}
        if text is not None:
            import tomlkit
            from tomlkit.exceptions import ParseError

            try:
                self._doc = tomlkit.loads(text)
            except ParseError as exc:
                raise ParamsFileError(
                    f"unable to read: '{name}', TOML file structure is corrupted: {exc}"
                ) from exc

    def data(self) -> Any:
        return plain(self._doc)

    def updated_text(self, new: dict[Any, Any]) -> str:
        import tomlkit

        try:
            merge_into(self._doc, new)
            return tomlkit.dumps(self._doc, sort_keys=False)
        except (TypeError, ValueError) as exc:  # tomlkit's ConvertError is both
            raise InvalidSetParamError(
                f"Invalid `--set-param` value: cannot write '{self.name}': {exc}"
            ) from exc


def write_files(edits: Iterable[tuple[str, str]]) -> None:
    """Write each ``(path, text)``: all to temporary files first, then each
    renamed over its target, so a failure leaves every target as it was.

    A symlinked params file is written through the link, as ``open`` would. A
    file whose bytes would not change is not touched (its mtime stays).
    """
    staged: list[tuple[str, str]] = []
    target = ""
    try:
        for path, text in edits:
            target = os.path.realpath(path)
            if _holds(target, text):
                continue
            fd, tmp = tempfile.mkstemp(
                prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                dir=os.path.dirname(target),
            )
            staged.append((tmp, target))
            with os.fdopen(fd, "w", encoding="utf-8") as fobj:
                fobj.write(text)
            os.chmod(tmp, _mode_for(target))
    except OSError as exc:
        for tmp, _ in staged:
            _unlink_quietly(tmp)
        raise ParamsFileError(f"unable to write: '{target}', {exc.strerror}") from exc
    for tmp, target in staged:
        os.replace(tmp, target)


def _holds(target: str, text: str) -> bool:
    try:
        with open(target, "rb") as fobj:
            return fobj.read() == text.replace("\n", os.linesep).encode("utf-8")
    except OSError:
        return False


def _mode_for(target: str) -> int:
    try:
        return os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
