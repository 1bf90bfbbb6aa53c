"""``exp run -S/--set-param``: parse Hydra overrides, expand sweeps, apply them.

DVC (``dvc/utils/cli_parse.py``, ``dvc/utils/hydra.py``) groups ``-S`` values
per params file, parses them with Hydra's override grammar, and applies them
to the file's values in OmegaConf *struct* mode: a key must exist unless the
override adds it (``+key=v``), forces it (``++key=v``) or deletes it
(``~key``). Sweeps (``a=1,2``, ``choice(...)``, ``range(...)``) only make
sense with ``--queue``: each combination becomes one queued experiment.

This is the only module that imports hydra, always inside functions, and only
its public parser (``OverridesParser``) and override types; the override loop
DVC borrows from Hydra's private config loader is written here with
OmegaConf's public API. Reading and writing the files is :mod:`dvcexp_plugin.params_edit`.
"""
from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any

from dvcexp_plugin.errors import InvalidSetParamError

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override
    from omegaconf import DictConfig

#: the params file of ``-S key=value`` without a ``file:`` prefix
DEFAULT_PARAMS_FILE = "params.yaml"

_INVALID = "Invalid `--set-param` value"


def parse_set_params(values: list[str]) -> dict[str, list[str]]:
    """Group ``-S`` values per params file, in order (DVC's ``to_path_overrides``).

    The file is the text before the first ``:`` when the part before the first
    ``=`` holds a ``:`` (``other.json:key=1``); otherwise it is ``params.yaml``.

    :param values: the ``-S`` values as given on the command line
    :returns: ``{file: [override, ...]}``
    """
    grouped: dict[str, list[str]] = {}
    for value in values:
        if ":" in value.partition("=")[0]:
            path, _, override = value.partition(":")
        else:
            path, override = DEFAULT_PARAMS_FILE, value
        grouped.setdefault(path, []).append(override)
    return grouped


def has_sweeps(overrides: dict[str, list[str]]) -> bool:
    """Whether any override is a sweep (``a=1,2``, ``choice()``, ``range()``, ...).

    :raises InvalidSetParamError: when an override does not parse
    """
    return any(o.is_sweep_override() for values in overrides.values() for o in _parse(values))


def reject_sweeps(overrides: dict[str, list[str]]) -> None:
    """Refuse sweeps outside ``--queue``, with DVC's message.

    :raises InvalidSetParamError: when an override is a sweep or does not parse
    """
    if has_sweeps(overrides):
        raise InvalidSetParamError("Sweep overrides can't be used without `--queue`")


def expand_sweeps(overrides: dict[str, list[str]]) -> list[dict[str, list[str]]]:
    """One override set per queued experiment, in DVC's order.

    Without sweeps the overrides come back unchanged, as the only entry. With
    sweeps, each file's overrides are expanded as Hydra's basic sweeper does
    (one column per key, the last key varying fastest; a later override of a
    key replaces an earlier one in its place; ``~key`` becomes ``~key=null``),
    then the files are combined the same way, the last file fastest.

    :raises InvalidSetParamError: for ``glob(...)`` and ``interval(...)`` sweeps,
        which DVC cannot queue, and for overrides that do not parse
    """
    parsed = {path: _parse(values) for path, values in overrides.items()}
    if not any(o.is_sweep_override() for items in parsed.values() for o in items):
        return [{path: list(values) for path, values in overrides.items()}]
    from hydra.core.override_parser.types import ValueType

    per_file: dict[str, list[list[str]]] = {}
    for path, items in parsed.items():
        for override in items:
            if override.value_type == ValueType.GLOB_CHOICE_SWEEP:
                raise InvalidSetParamError(
                    f"Glob override '{override.input_line}' is not supported."
                )
        columns: dict[str, list[str]] = {}
        for override in items:
            key = override.get_key_element()
            if not override.is_sweep_override():
                columns[key] = [f"{key}={override.get_value_element_as_str()}"]
            elif override.is_discrete_sweep():
                columns[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
            else:
                raise InvalidSetParamError(
                    f"Interval override '{override.input_line}' is not supported."
                )
        per_file[path] = [list(row) for row in itertools.product(*columns.values())]
    combos = itertools.product(*per_file.values())
    return [dict(zip(per_file, combo, strict=True)) for combo in combos]


def apply_overrides(path: str, overrides: list[str], shown_as: str | None = None) -> None:
    """Edit one params file in place; on any error it is left unchanged.

    :param path: the params file (``.yaml``/``.yml``/other, ``.json``,
        ``.toml`` or ``.py``); a missing file starts empty
    :param overrides: Hydra overrides (``key=v``, ``+key=v``, ``++key=v``, ``~key``)
    :param shown_as: the name used in error messages (default: ``path``)
    :raises InvalidSetParamError: when an override does not parse or apply
    :raises ParamsFileError: when the file cannot be read, parsed or written
    """
    from dvcexp_plugin.params_edit import write_files

    write_files([(path, updated_text(path, overrides, shown_as))])


def apply_all(root: str, overrides: dict[str, list[str]]) -> None:
    """Apply every file's overrides: all are validated before any file is written.

    :param root: the directory the file names are relative to (DVC uses the
        current working directory)
    :param overrides: ``{file: [override, ...]}`` as from :func:`parse_set_params`
    :raises InvalidSetParamError: when an override does not parse or apply
    :raises ParamsFileError: when a file cannot be read, parsed or written
    """
    from dvcexp_plugin.params_edit import write_files

    # `a=1` and `./params.yaml:b=2` name one file: DVC edits it twice in a row
    per_file: dict[str, tuple[str, str, list[str]]] = {}
    for path, values in overrides.items():
        full = os.path.join(root, path)
        entry = per_file.setdefault(os.path.realpath(full), (full, path, []))
        entry[2].extend(values)
    write_files(
        [(full, updated_text(full, values, shown)) for full, shown, values in per_file.values()]
    )


def updated_text(path: str, overrides: list[str], shown_as: str | None = None) -> str:
    """The text ``path`` would have after ``overrides``; nothing is written."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from dvcexp_plugin.params_edit import open_document

    name = shown_as or path
    parsed = _parse(overrides)
    for override in parsed:
        if override.is_sweep_override():
            raise InvalidSetParamError("Sweep overrides can't be used without `--queue`")
    document = open_document(path, name)
    try:
        config = OmegaConf.create(document.data(), flags={"allow_objects": True})
    except OmegaConfBaseException as exc:
        raise InvalidSetParamError(f"{_INVALID}: {_first_line(exc)} (in '{name}')") from exc
    OmegaConf.set_struct(config, True)
    _apply_to_config(parsed, config)
    try:
        new = OmegaConf.to_object(config)  # resolves ${...} interpolations, as DVC does
    except OmegaConfBaseException as exc:
        raise InvalidSetParamError(f"{_INVALID}: {_first_line(exc)} (in '{name}')") from exc
    if not isinstance(new, dict):  # a top-level list or scalar: DVC fails an assert
        raise InvalidSetParamError(f"{_INVALID}: '{name}' does not hold a mapping of params")
    return document.updated_text(new)


def _parse(overrides: list[str]) -> list[Override]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    try:
        return parser.parse_overrides(overrides=list(overrides))
    except OverrideParseException as exc:
        raise InvalidSetParamError(_parse_error(exc.override, exc.message)) from exc


def _parse_error(override: str, message: str) -> str:
    """Hydra's multi-line parse error as one line that still names the fix."""
    lines = [line for line in message.splitlines() if line.strip()]
    see = next((line for line in lines if line.startswith("See https://")), "")
    details = [line for line in lines if line != see]
    if details and details[0].startswith("Error parsing override"):
        head, reason = details[0], " ".join(details[1:])
    elif details and details[0].startswith("LexerNoViableAltException"):
        # the second line is a caret under the offending character
        caret = details[1].index("^") if len(details) > 1 and "^" in details[1] else -1
        column = caret - len("LexerNoViableAltException: ")
        head = f"Error parsing override '{override}'"
        reason = (
            f"unexpected character {override[column]!r} at position {column + 1}"
            if 0 <= column < len(override) else "unexpected character"
        )
    else:
        head, reason = f"Error parsing override '{override}'", " ".join(details)
    text = f"{_INVALID}: {head}: {reason}" if reason else f"{_INVALID}: {head}"
    return f"{text}. {see}" if see else text


def _apply_to_config(overrides: list[Override], config: DictConfig) -> None:
    """Hydra's ``_apply_overrides_to_config``, with the same checks and messages."""
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    for override in overrides:
        line = override.input_line or ""
        key = override.key_or_group
        if override.package is not None:
            raise InvalidSetParamError(
                f"{_INVALID}: Override {line} looks like a config group override, "
                f"but config group '{key}' does not exist."
            )
        value = override.value()
        try:
            if override.is_delete():
                current = OmegaConf.select(config, key, throw_on_missing=False)
                if current is None:
                    raise InvalidSetParamError(
                        f"{_INVALID}: Could not delete from config. '{key}' does not exist."
                    )
                if value is not None and value != current:
                    raise InvalidSetParamError(
                        f"{_INVALID}: Could not delete from config. The value of '{key}' "
                        f"is {current} and not {value}."
                    )
                parent, _, leaf = key.rpartition(".")
                with open_dict(config):
                    node: Any = OmegaConf.select(config, parent) if parent else config
                    del node[leaf]
            elif override.is_add():
                exists = OmegaConf.select(config, key, throw_on_missing=False) is not None
                if exists and not isinstance(value, (dict, list)):
                    raise InvalidSetParamError(
                        f"{_INVALID}: Could not append to config. An item is already at "
                        f"'{key}'. Either remove + prefix: '{line[1:]}' Or add a second + "
                        f"to add or override '{key}': '+{line}'"
                    )
                OmegaConf.update(config, key, value, merge=True, force_add=True)
            elif override.is_force_add():
                OmegaConf.update(config, key, value, merge=True, force_add=True)
            else:
                try:
                    OmegaConf.update(config, key, value, merge=True)
                except (ConfigAttributeError, ConfigKeyError) as exc:
                    raise InvalidSetParamError(
                        f"{_INVALID}: Could not override '{key}'. "
                        f"To append to your config use +{line}"
                    ) from exc
        except OmegaConfBaseException as exc:
            raise InvalidSetParamError(
                f"{_INVALID}: Error merging override {line}: {_first_line(exc)}"
            ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
