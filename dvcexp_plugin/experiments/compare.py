"""Params and metrics compared between revisions, and the tables DVC prints for them.

Shared by ``exp diff``, ``params diff``, ``metrics show`` and ``metrics diff``.
Values are handled as DVC does: nested keys joined with ``.`` (empty mappings
vanish), lists compared as their ``str``, a ``diff`` only between two numbers.
Tables are ``tabulate``'s ``plain`` or ``github`` format with numbers left as
text, exactly as DVC renders them. Never imports snakemake or hydra.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: digits DVC rounds metrics to (``--precision`` default)
DEFAULT_PRECISION = 5
FILL_VALUE = "-"


def flatten(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; empty mappings are dropped (flatten_dict's rule)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def format_dict(data: Mapping[Any, Any]) -> dict[Any, Any]:
    """Lists become their ``str``, recursively (DVC compares lists as text)."""
    result: dict[Any, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            result[key] = format_dict(value)
        elif isinstance(value, list):
            result[key] = str(value)
        else:
            result[key] = value
    return result


def extract_metrics(value: Any) -> Any:
    """Numbers and strings of a metrics file; other types (lists, nulls) are dropped."""
    if isinstance(value, (int, float, str)):
        return value
    if not isinstance(value, Mapping):
        return None
    kept = {}
    for key, item in value.items():
        extracted = extract_metrics(item)
        if extracted not in (None, {}):
            kept[key] = extracted
    return kept


def _parse(raw: Any) -> Any:
    if raw is None or isinstance(raw, (dict, list, int, float)):
        return raw
    try:
        return json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return raw


def _diff_values(old: Any, new: Any, with_unchanged: bool) -> dict[str, Any]:
    if isinstance(new, list) and isinstance(old, list) and len(old) == len(new) == 1:
        return _diff_values(old[0], new[0], with_unchanged)
    if not with_unchanged and old == new:
        return {}
    result = {"old": old, "new": new}
    if isinstance(new, (int, float)) and isinstance(old, (int, float)):
        result["diff"] = new - old
    return result


def _flat_or_marker(data: Any) -> tuple[dict[str, Any], Any]:
    if not data:
        return {}, None
    if isinstance(data, Mapping):
        return flatten(data), None
    return {}, "unable to parse"


def _diff_file(old_raw: Any, new_raw: Any, with_unchanged: bool) -> dict[str, Any]:
    old, new = _parse(old_raw), _parse(new_raw)
    if isinstance(old, dict) or isinstance(new, dict):
        old_flat, old_default = _flat_or_marker(old)
        new_flat, new_default = _flat_or_marker(new)
        result = {}
        for key in sorted(set(old_flat) | set(new_flat)):
            change = _diff_values(old_flat.get(key, old_default), new_flat.get(key, new_default),
                                  with_unchanged)
            if change:
                result[key] = change
        return result
    change = _diff_values(old, new, with_unchanged)
    return {"": change} if change else {}


def diff(
    old: Mapping[str, Any], new: Mapping[str, Any], with_unchanged: bool = False
) -> dict[str, dict[str, Any]]:
    """``{file: {key: {"old", "new"[, "diff"]}}}`` between two ``{file: {"data"|"error"}}``."""
    old, new = format_dict(old), format_dict(new)
    result: dict[str, dict[str, Any]] = {}
    for path in sorted(set(old) | set(new)):
        changes = _diff_file((old.get(path) or {}).get("data", {}),
                             (new.get(path) or {}).get("data", {}), with_unchanged)
        if changes:
            result[path] = changes
    return result


def errored_files(files: Mapping[str, Any]) -> list[str]:
    """Files of a ``{file: {"data"|"error"}}`` mapping that could not be read."""
    return [path for path, item in files.items() if isinstance(item, Mapping) and "error" in item]


def format_field(value: Any, precision: int | None = None, round_digits: bool = False) -> str:
    """A cell as DVC writes it: floats to ``precision`` significant digits (or decimals)."""
    def fmt(item: Any) -> Any:
        if isinstance(item, float) and precision:
            return round(item, precision) if round_digits else f"{item:.{precision}g}"
        if isinstance(item, Mapping):
            return {key: fmt(val) for key, val in item.items()}
        if isinstance(item, list):
            return [fmt(val) for val in item]
        return item

    return str(fmt(value))


def render_table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """DVC's plain table (or GitHub Markdown); a plain table with no rows prints nothing."""
    if not rows and not markdown:
        return ""
    from tabulate import tabulate

    text: str = tabulate(
        rows, headers, tablefmt="github" if markdown else "plain", disable_numparse=True,
        missingval=FILL_VALUE,
    )
    # DVC adds a newline to close a Markdown table, then prints it with one more
    return text + ("\n\n" if markdown else "\n")


def diff_table(
    changes: Mapping[str, Mapping[str, Any]],
    title: str,
    a_rev: str | None = None,
    b_rev: str | None = None,
    *,
    markdown: bool = False,
    no_path: bool = False,
    show_changes: bool = True,
    precision: int | None = None,
    round_digits: bool = False,
    on_empty_diff: str | None = None,
) -> str:
    """``Path  <title>  <a_rev>  <b_rev>  Change`` rows of a :func:`diff` result."""
    headers = ["Path", title, a_rev or "HEAD", b_rev or "workspace", "Change"]
    rows = []
    for path, items in changes.items():
        for key, change in sorted(items.items()):
            cells = [change.get("old"), change.get("new"), change.get("diff", on_empty_diff)]
            rows.append([path, str(key)] + [
                format_field(FILL_VALUE if cell is None else cell, precision, round_digits)
                for cell in cells
            ])
    drop = ({0} if no_path else set()) | (set() if show_changes else {4})
    headers = [h for i, h in enumerate(headers) if i not in drop]
    rows = [[c for i, c in enumerate(row) if i not in drop] for row in rows]
    return render_table(headers, rows, markdown)


def metrics_table(
    metrics: Mapping[str, Mapping[str, Any]],
    *,
    markdown: bool = False,
    precision: int | None = DEFAULT_PRECISION,
    show_revision: bool = False,
) -> str:
    """``metrics show``: a row per (revision, file), a column per metric (sorted)."""
    rows: list[dict[str, str]] = []
    names: dict[str, None] = {}
    for rev, files in metrics.items():
        for path, item in files.items():
            data = item.get("data", {}) if isinstance(item, Mapping) else {}
            flat = flatten(format_dict(data)) if isinstance(data, Mapping) else {"": data}
            row = {"Revision": rev, "Path": path}
            for key, value in flat.items():
                names.setdefault(key, None)
                row[key] = format_field(value, precision, round_digits=True)
            rows.append(row)
    headers = (["Revision"] if show_revision else []) + ["Path", *sorted(names)]
    return render_table(headers, [[row.get(h, FILL_VALUE) for h in headers] for row in rows],
                        markdown)
