"""The interpolation context: ``params.yaml`` plus ``vars``, merged as DVC does.

Merging never overwrites: a key that already exists (unless both sides are
mappings, which merge recursively) is an error naming both sources. Loading
the same file twice is fine when both loads are whole-file; mixing a partial
(``file:keys``) and another load of the same file is an error.
"""
from __future__ import annotations

import copy
import os
import posixpath
from typing import Any

from dvcexp_plugin.errors import ParamsFileError, ResolveError
from dvcexp_plugin.pipeline.interpolate import InterpolationError
from dvcexp_plugin.pipeline.params_files import read_params_file


class MergeError(ResolveError):
    """A ``vars`` entry redefines an existing key."""


class Context:
    """Nested data available to ``${}`` with the source of each top-level key."""

    def __init__(self, root: str) -> None:
        #: absolute repository root; file paths are resolved against it
        self.root = root
        self.data: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        #: repo-relative file → None (whole file) or the keys loaded from it
        self.imports: dict[str, list[str] | None] = {}

    def clone(self) -> Context:
        other = Context(self.root)
        other.data = copy.deepcopy(self.data)
        other.sources = dict(self.sources)
        other.imports = {k: (list(v) if v is not None else None) for k, v in self.imports.items()}
        return other

    def __contains__(self, key: str) -> bool:
        return key in self.data

    # -- loading ---------------------------------------------------------
    def merge_file(self, item: str, wdir: str) -> None:
        """Load ``path`` or ``path:key1,key2`` (relative to repo-relative ``wdir``)."""
        path_part, _, keys_text = item.partition(":")
        path = posixpath.normpath(posixpath.join(wdir, path_part))
        keys = [k for k in keys_text.split(",") if k] if keys_text else None
        if path in self.imports:
            loaded = self.imports[path]
            if not keys and loaded is None:
                return  # the whole file may be named several times
            if not keys:
                raise ResolveError(f"cannot load '{item}' as it's partially loaded already")
            if loaded is None:
                raise ResolveError(f"cannot partially load '{item}' as it's already loaded.")
            if set(keys) & set(loaded):
                raise ResolveError(f"cannot load '{item}' as it's partially loaded already")
        try:
            data = read_params_file(os.path.join(self.root, path), shown_as=path)
        except ParamsFileError as exc:
            raise ResolveError(str(exc)) from exc
        if not isinstance(data, dict):
            raise ResolveError(
                f"expected a dictionary, got '{type(data).__name__}' in file '{path}'"
            )
        if keys:
            selected: dict[str, Any] = {}
            for key in keys:
                if key not in data:
                    raise ResolveError(f"could not find '{key}' in '{path}'")
                selected[key] = data[key]
            data = selected
        self.merge_dict(data, source=path)
        if path not in self.imports:
            self.imports[path] = list(keys) if keys else None
        elif keys:
            existing = self.imports[path]
            if existing is not None:
                existing.extend(keys)

    def merge_dict(self, data: dict[str, Any], source: str) -> None:
        """Merge new data; redefining a non-mapping key is a :class:`MergeError`.

        :raises ResolveError: for values DVC cannot hold (dates, sets…), even unused
        """
        _check_supported(data, source, "")
        for key in data:
            if key in self.data and not (
                isinstance(self.data[key], dict) and isinstance(data[key], dict)
            ):
                raise MergeError(
                    f"cannot redefine '{key}' from '{source}' as it already exists in "
                    f"'{self.sources.get(key, '?')}'"
                )
        for key, value in data.items():
            if key in self.data:
                _merge_into(self.data[key], value, f"{key}", source, self.sources.get(key, "?"))
            else:
                self.data[key] = copy.deepcopy(value)
                self.sources[key] = source

    # -- lookup ----------------------------------------------------------
    def select(self, parts: list[str | int], text: str) -> Any:
        """The value at an expression's parts; missing keys name the expression.

        As in DVC, ``a[0]`` and ``a.0`` are the same: an index into a list, or
        the *string* key ``"0"`` of a mapping. The error names the dotted form
        (``Could not find 'l.5'``), as DVC's does.
        """
        node: Any = self.data
        text = ".".join(str(part) for part in parts)
        for part in parts:
            if isinstance(node, dict):
                if str(part) in node:
                    node = node[str(part)]
                    continue
            elif isinstance(node, list):
                try:
                    index = int(part)
                except ValueError:
                    index = None
                if index is not None and -len(node) <= index < len(node):
                    node = node[index]
                    continue
            raise InterpolationError(f"Could not find '{text}'")
        return node


#: value types DVC's context holds (``dvc/parsing/context.py``); others are errors
_SUPPORTED = (str, int, float, bool, bytes, type(None), dict, list)


def _check_supported(value: Any, source: str, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_supported(item, source, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_supported(item, source, f"{path}.{index}" if path else str(index))
    elif not isinstance(value, _SUPPORTED):
        raise ResolveError(
            f"Unsupported value of type '{type(value).__name__}' in '{source}:{path}'; "
            "quote it to make it a string"
        )


def _merge_into(
    into: dict[str, Any], new: dict[str, Any], prefix: str, source: str, old: str
) -> None:
    for key, value in new.items():
        if key in into:
            if isinstance(into[key], dict) and isinstance(value, dict):
                _merge_into(into[key], value, f"{prefix}.{key}", source, old)
                continue
            raise MergeError(
                f"cannot redefine '{prefix}.{key}' from '{source}' as it already exists in '{old}'"
            )
        into[key] = copy.deepcopy(value)
