"""``exp show`` as a table: CSV, Markdown or the rich table, with DVC's column rules.

Columns are ``Experiment rev typ Created parent State Executor``, then metrics,
params and deps. A metric or param name shared by two files (or with a fixed
column) is shown as ``file:name``. Then, in DVC's order: ``--keep`` protects
the columns its regexes match; empty ``State``/``Executor`` go; outside CSV,
``rev``/``typ``/``parent`` merge into ``Experiment``; ``--only-changed`` drops
columns with one value in every row; ``--drop`` drops matching columns.
``--sort-by`` orders the experiments under each baseline (the last one is
drawn ``└──``). Never imports snakemake or hydra.
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dvcexp_plugin.experiments.compare import flatten, format_field, render_table
from dvcexp_plugin.experiments.resolve import InvalidArgumentError

FILL_VALUE = "-"
ERROR_VALUE = "!"
BASE_COLUMNS = ["Experiment", "rev", "typ", "Created", "parent", "State", "Executor"]
_TREE = {"branch_commit": "├──", "branch_base": "└──", "baseline": ""}

Names = dict[str, dict[str, None]]


@dataclass
class ExpTable:
    """Columns and string cells, with what each column shows and which may not be dropped."""

    columns: list[str]
    rows: list[list[str]]
    kinds: dict[str, str] = field(default_factory=dict)  #: column → metrics/params/deps
    fill: str = FILL_VALUE  #: what an empty cell holds
    protected: set[str] = field(default_factory=set)

    def column(self, name: str) -> list[str]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def drop(self, *names: str) -> None:
        """Remove columns, except protected ones (DVC's ``TabularData.drop``)."""
        gone = {n for n in names if n in self.columns and n not in self.protected}
        keep = [i for i, name in enumerate(self.columns) if name not in gone]
        self.columns = [self.columns[i] for i in keep]
        self.rows = [[row[i] for i in keep] for row in self.rows]


def _states(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for row in rows:
        found.append(row)
        for exp in row.get("experiments") or []:
            found.extend(exp["revs"])
    return found


def _names(rows: list[dict[str, Any]]) -> tuple[Names, Names, list[str]]:
    metrics: Names = {}
    params: Names = {}
    deps: set[str] = set()
    for state in _states(rows):
        data = state.get("data") or {}
        for section, names in (("metrics", metrics), ("params", params)):
            for path, item in (data.get(section) or {}).items():
                content = item.get("data", {})
                if isinstance(content, dict):
                    names.setdefault(path, {}).update(dict.fromkeys(flatten(content)))
        deps.update(data.get("deps") or {})
    return metrics, params, sorted(deps)


def _headers(names: Names, counts: Counter[str]) -> list[str]:
    return [name if counts[name] == 1 else f"{path}:{name}"
            for path in names for name in names[path]]


def build_table(
    rows: list[dict[str, Any]],
    *,
    fill: str = FILL_VALUE,
    precision: int | None = None,
    iso: bool = False,
    sort_by: str | None = None,
    sort_order: str = "asc",
) -> ExpTable:
    """One table row per workspace, baseline and experiment of ``collect_show`` rows.

    :raises InvalidArgumentError: ``sort_by`` names no column, or several
    """
    metrics, params, deps = _names(rows)
    counts: Counter[str] = Counter(n for names in (metrics, params) for f in names
                                   for n in names[f])
    counts.update(BASE_COLUMNS)
    metric_headers, param_headers = _headers(metrics, counts), _headers(params, counts)
    columns = BASE_COLUMNS + metric_headers + param_headers + deps
    kinds = {**dict.fromkeys(metric_headers, "metrics"), **dict.fromkeys(param_headers, "params"),
             **dict.fromkeys(deps, "deps")}
    sort = _sort_column(sort_by, metrics, params) if sort_by else None
    cells: list[list[str]] = []

    def add(state: dict[str, Any], name: str, rev: str, typ: str,
            executor: dict[str, Any] | None = None) -> None:
        row = dict.fromkeys(columns, fill)
        row.update(Experiment=name, rev=rev, typ=typ, parent="")
        if executor:  # queued, running or failed entries, as DVC shows its queue's
            row["State"] = str(executor.get("state", "")).capitalize()
            row["Executor"] = str(executor.get("name", "")).capitalize()
        data = state.get("data")
        if data:
            row["Created"] = _created(data.get("timestamp"), fill, iso)
            for section, names, headers in (("metrics", metrics, metric_headers),
                                            ("params", params, param_headers)):
                for path, item in (data.get(section) or {}).items():
                    content = item.get("data", {})
                    flat = flatten(content) if isinstance(content, dict) else {path: content}
                    for key in names.get(path, {}):
                        value = flat.get(key)
                        if value is None:
                            value = ERROR_VALUE if item.get("error") else fill
                        row[key if key in headers else f"{path}:{key}"] = format_field(
                            value, precision
                        )
            for path in deps:
                dep = (data.get("deps") or {}).get(path)
                if dep:
                    row[path] = dep.get("hash") or fill
        cells.append([row[c] for c in columns])

    for baseline in rows:
        rev = baseline["rev"]
        label = baseline["name"] or (rev[:7] if len(rev) == 40 else rev)
        add(baseline, "", label, "baseline")
        exps = baseline.get("experiments") or []
        if sort:
            exps = _sorted(exps, sort, reverse=sort_order == "desc")
        for index, exp in enumerate(exps):
            state = exp["revs"][0]
            typ = "branch_base" if index == len(exps) - 1 else "branch_commit"
            add(state, exp.get("name") or "", state["rev"][:7], typ, exp.get("executor"))
    return ExpTable(columns, cells, kinds, fill)


def _created(timestamp: str | None, fill: str, iso: bool) -> str:
    if not timestamp:
        return fill
    if iso:
        return timestamp
    when = datetime.fromisoformat(timestamp)
    return when.strftime("%I:%M %p" if when.date() == datetime.now().date() else "%b %d, %Y")


def _sort_column(sort_by: str, metrics: Names, params: Names) -> tuple[str, str, str]:
    """``(file, name, section)`` that ``--sort-by`` names (``name`` or ``file:name``)."""
    parts = sort_by.split(":")
    matches: set[tuple[str, str, str]] = set()
    for split in range(len(parts)):
        path, name = ":".join(parts[:split]), ":".join(parts[split:])
        if not path:
            sort_by = name
        if name in metrics.get(path, {}):
            matches.add((path, name, "metrics"))
        if name in params.get(path, {}):
            matches.add((path, name, "params"))
    if not matches:
        for section, names in (("metrics", metrics), ("params", params)):
            matches.update((path, sort_by, section) for path in names if sort_by in names[path])
    if len(matches) == 1:
        return matches.pop()
    if matches:
        found = ", ".join(sorted(f"{path}:{name}" for path, name, _ in matches))
        raise InvalidArgumentError(
            f"Ambiguous sort column '{sort_by}' matched '{found}'; sort by one of them"
        )
    raise InvalidArgumentError(
        f"Unknown sort column '{sort_by}'; name a metric or param as 'exp show' lists it"
    )


def _sorted(
    exps: list[dict[str, Any]], sort: tuple[str, str, str], reverse: bool
) -> list[dict[str, Any]]:
    path, name, section = sort

    def value(exp: dict[str, Any]) -> Any:
        data = exp["revs"][0].get("data") or {}
        content = ((data.get(section) or {}).get(path) or {}).get("data", {})
        return flatten(content).get(name) if isinstance(content, dict) else None

    try:
        return sorted(exps, key=lambda e: (value(e) is None, value(e)), reverse=reverse)
    except TypeError:  # mixed types in one column: compare them as text
        return sorted(exps, key=lambda e: (value(e) is None, str(value(e))), reverse=reverse)


def select_columns(
    table: ExpTable,
    *,
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    only_changed: bool = False,
    merge_experiment: bool = True,
) -> ExpTable:
    """Apply ``--keep``, ``--only-changed`` and ``--drop`` in DVC's order (in place)."""
    if keep:
        pattern = re.compile("|".join(keep))
        table.protected.update(c for c in table.columns if pattern.match(c))
    for name in ("State", "Executor"):
        if name in table.columns and all(c == table.fill for c in table.column(name)):
            table.drop(name)
    if merge_experiment:
        index = {name: table.columns.index(name) for name in ("Experiment", "rev", "typ")}
        for row in table.rows:
            name, rev, typ = (row[index[k]] for k in ("Experiment", "rev", "typ"))
            label = rev if typ == "baseline" or not name else f"{rev} [{name}]"
            row[index["Experiment"]] = f"{_TREE[typ]} {label}" if _TREE[typ] else label
        table.drop("rev", "typ", "parent")
    if only_changed:
        table.drop(*(c for c in table.columns if len(set(table.column(c))) == 1))
    if drop:
        pattern = re.compile("|".join(drop))
        table.drop(*(c for c in table.columns if pattern.match(c)))
    return table


def render_csv(table: ExpTable) -> str:
    """DVC's ``--csv`` (``\\r\\n`` line ends, as Python's csv writer)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return out.getvalue()


def render_markdown(table: ExpTable) -> str:
    """DVC's ``--md``: a GitHub table, then a blank line."""
    return render_table(table.columns, table.rows, markdown=True)


def render_rich(table: ExpTable) -> str:
    """The rich table ``dvc exp show`` draws without a pager, cut to ``COLUMNS`` (80)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    header, body = table.columns, table.rows
    width = int(os.environ.get("COLUMNS", "0") or 0) or 80
    # as DVC: whole columns from the left while they fit, then one "…" column
    widths = [max([len(header[i])] + [len(r[i]) for r in body]) for i in range(len(header))]
    keep, used = 0, 4
    for index, column_width in enumerate(widths):
        if index >= 1 and used + column_width + 3 > width - 4:
            break
        keep, used = index + 1, used + column_width + 3
    truncated = keep < len(header)
    rich_table = Table(box=box.HORIZONTALS, show_edge=True)
    for index, name in enumerate(header[:keep]):
        is_metric = table.kinds.get(name) == "metrics"  # DVC right-aligns metrics only
        rich_table.add_column(name, no_wrap=True, min_width=widths[index],
                              justify="right" if is_metric else "left")
    if truncated:
        rich_table.add_column("…", no_wrap=True)
    for row in body:
        cells = [Text(cell) for cell in row[:keep]]  # "[exp-a]" is not rich markup
        rich_table.add_row(*cells, *(["…"] if truncated else []))
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(rich_table)
    return str(console.file.getvalue())  # type: ignore[attr-defined]
