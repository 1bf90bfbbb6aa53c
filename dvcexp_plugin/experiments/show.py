"""``exp show``: experiments of the baselines, as DVC's JSON, CSV, Markdown or table.

Never imports snakemake or hydra; rich is imported only to draw a table.
"""
from __future__ import annotations

import csv
import io
import os
from datetime import datetime
from typing import Any

from dvcexp_plugin.experiments.collect import RevisionCollector
from dvcexp_plugin.git.exp_refs import iter_exp_refs
from dvcexp_plugin.git.repo import GitRepo


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%dT%H:%M:%S")


def collect_show(
    root: str,
    collector: RevisionCollector,
    git: GitRepo,
    revs: list[str] | None = None,
    all_baselines: bool = False,
    num: int = 1,
    hide_workspace: bool = False,
    param_deps: bool = False,
) -> list[dict[str, Any]]:
    """DVC's ``exp show --json`` list: the workspace, then each baseline with its experiments."""
    rows: list[dict[str, Any]] = []
    if not hide_workspace:
        data = collector.collect(collector.workspace_reader(), "workspace", None,
                                 param_deps=param_deps)
        rows.append({"rev": "workspace", "name": None, "data": data, "error": None,
                     "experiments": None})
    refs = iter_exp_refs(git)
    by_baseline: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in refs.items():
        by_baseline.setdefault(ref.baseline_sha, []).append((ref.name, sha))
    for baseline in _baselines(git, revs, all_baselines, num, by_baseline):
        rows.append(_baseline_row(git, collector, baseline, by_baseline.get(baseline, []),
                                  param_deps))
    return rows


def _baselines(
    git: GitRepo, revs: list[str] | None, all_baselines: bool, num: int,
    by_baseline: dict[str, list[tuple[str, str]]],
) -> list[str]:
    if all_baselines:
        head = git.head_sha()
        others = sorted(b for b in by_baseline if b != head)
        return [head, *others]
    found: list[str] = []
    for rev in revs or ["HEAD"]:
        sha = git.resolve(rev)
        for _ in range(max(1, num)):
            if sha not in found:
                found.append(sha)
            parents = git.commit_info(sha).parents
            if not parents:
                break
            sha = parents[0]
    return found


def _name_of(git: GitRepo, sha: str) -> str | None:
    branch = git.head_branch()
    if branch and git.resolve("HEAD") == sha:
        return branch
    for ref, target in git.iter_refs("refs/heads/").items():
        if target == sha:
            return ref.removeprefix("refs/heads/")
    for ref, target in git.iter_refs("refs/tags/").items():
        if target == sha:
            return ref.removeprefix("refs/tags/")
    return None


def _reader(git: GitRepo, sha: str) -> Any:
    return lambda path: git.read_file(sha, path)


def _lister(git: GitRepo, sha: str) -> Any:
    return lambda: git.list_files(sha)


def _baseline_row(
    git: GitRepo, collector: RevisionCollector, baseline: str,
    exps: list[tuple[str, str]], param_deps: bool,
) -> dict[str, Any]:
    info = git.commit_info(baseline)
    data = collector.collect(_reader(git, baseline), baseline, _iso(info.commit_time),
                             list_files=lambda: git.list_files(baseline), param_deps=param_deps)
    experiments = []
    dated = []
    for name, sha in exps:
        exp_info = git.commit_info(sha)
        dated.append((exp_info.commit_time, sha, name))
    for commit_time, sha, name in sorted(dated, reverse=True):
        exp_data = collector.collect(_reader(git, sha), sha, _iso(commit_time),
                                     list_files=_lister(git, sha), param_deps=param_deps)
        experiments.append({
            "revs": [{"rev": sha, "name": name, "data": exp_data, "error": None,
                      "experiments": None}],
            "executor": None,
            "name": name,
        })
    return {"rev": baseline, "name": _name_of(git, baseline), "data": data, "error": None,
            "experiments": experiments or None}


# -- tabular forms ------------------------------------------------------------
def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def _columns(rows: list[dict[str, Any]], section: str) -> list[tuple[str, str]]:
    """(file, key) columns in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    for data in _all_data(rows):
        for file, content in (data.get(section) or {}).items():
            for key in _flatten(content.get("data") or {}):
                seen[(file, key)] = None
    return list(seen)


def _all_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for row in rows:
        found.append(row["data"])
        for exp in row.get("experiments") or []:
            for rev in exp["revs"]:
                found.append(rev["data"])
    return found


def _label(columns: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    counts: dict[str, int] = {}
    for _, key in columns:
        counts[key] = counts.get(key, 0) + 1
    return {(f, k): (k if counts[k] == 1 else f"{f}:{k}") for f, k in columns}


def table_rows(
    rows: list[dict[str, Any]], full_precision: bool,
) -> tuple[list[str], list[list[str]], list[dict[str, str]]]:
    """Header, cells and row meta (rev, typ, created, name) for csv/md/table."""
    metrics = _columns(rows, "metrics")
    params = _columns(rows, "params")
    deps = sorted({p for d in _all_data(rows) for p in (d.get("deps") or {})})
    labels = {**_label(metrics), **_label(params)}
    header = [labels[c] for c in metrics] + [labels[c] for c in params] + deps
    cells: list[list[str]] = []
    meta: list[dict[str, str]] = []

    def add(data: dict[str, Any], info: dict[str, str]) -> None:
        values = []
        for section, columns in (("metrics", metrics), ("params", params)):
            for file, key in columns:
                content = (data.get(section) or {}).get(file) or {}
                flat = _flatten(content.get("data") or {})
                if key in flat:
                    values.append(_fmt(flat[key], full_precision))
                else:
                    values.append("!" if section == "metrics" and "error" in content else
                                  ("!" if section == "metrics" else "-"))
        for path in deps:
            value = ((data.get("deps") or {}).get(path) or {}).get("hash")
            values.append(value or ("" if full_precision else "-"))
        cells.append(values)
        meta.append(info)

    for row in rows:
        data = row["data"]
        rev_label = row["name"] or (row["rev"] if row["rev"] == "workspace" else row["rev"][:7])
        add(data, {"name": "", "rev": rev_label, "typ": "baseline",
                   "created": data.get("timestamp") or ""})
        exps = row.get("experiments") or []
        for index, exp in enumerate(exps):
            rev = exp["revs"][0]
            typ = "branch_base" if index == len(exps) - 1 else "branch_commit"
            add(rev["data"], {"name": exp["name"] or "", "rev": rev["rev"][:7], "typ": typ,
                              "created": rev["data"].get("timestamp") or ""})
    return header, cells, meta


def _fmt(value: Any, full: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not full:
        return f"{value:.5g}"
    if isinstance(value, (list, dict)):
        return str(value)
    return str(value)


def render_csv(rows: list[dict[str, Any]]) -> str:
    """DVC's ``--csv``: ``Experiment,rev,typ,Created,parent,<columns>``."""
    header, cells, meta = table_rows(rows, full_precision=True)
    out = io.StringIO()
    writer = csv.writer(out)  # "\r\n" line ends, as DVC's csv output
    writer.writerow(["Experiment", "rev", "typ", "Created", "parent", *header])
    for values, info in zip(cells, meta, strict=True):
        writer.writerow([info["name"], info["rev"], info["typ"], info["created"], "", *values])
    return out.getvalue()


def _created(iso: str) -> str:
    if not iso:
        return "-"
    when = datetime.fromisoformat(iso)
    if when.date() == datetime.now().date():
        return when.strftime("%I:%M %p")
    return when.strftime("%b %d, %Y")


def display_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows as the table shows them (tree prefixes, short dates)."""
    header, cells, meta = table_rows(rows, full_precision=False)
    return _display(header, cells, meta)


def _display(
    header: list[str], cells: list[list[str]], meta: list[dict[str, str]]
) -> tuple[list[str], list[list[str]]]:
    out = []
    for values, info in zip(cells, meta, strict=True):
        if info["typ"] == "baseline":
            name = info["rev"]
        else:
            branch = "└──" if info["typ"] == "branch_base" else "├──"
            name = f"{branch} {info['rev']} [{info['name']}]"
        out.append([name, _created(info["created"]), *values])
    return ["Experiment", "Created", *header], out


def render_markdown(rows: list[dict[str, Any]]) -> str:
    header, body = display_rows(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("-" * (len(h) + 2) for h in header)
             + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def render_table(rows: list[dict[str, Any]]) -> str:
    """A rich table, as ``dvc exp show`` draws it (no pager)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    header, cells, meta = table_rows(rows, full_precision=False)
    metric_count = len(_columns(rows, "metrics"))
    header, body = _display(header, cells, meta)
    width = int(os.environ.get("COLUMNS", "0") or 0) or 80
    # as DVC: whole columns from the left while they fit, then one "…" column
    widths = [max([len(header[i])] + [len(r[i]) for r in body]) for i in range(len(header))]
    keep, used = 0, 4
    for index, column_width in enumerate(widths):
        if index >= 1 and used + column_width + 3 > width - 4:
            break
        keep, used = index + 1, used + column_width + 3
    truncated = keep < len(header)
    table = Table(box=box.HORIZONTALS, show_edge=True)
    for index, name in enumerate(header[:keep]):
        is_metric = 2 <= index < 2 + metric_count  # DVC right-aligns metrics only
        table.add_column(name, no_wrap=True, min_width=widths[index],
                         justify="right" if is_metric else "left")
    if truncated:
        table.add_column("…", no_wrap=True)
    for row in body:
        cells_text = [Text(cell) for cell in row[:keep]]  # "[exp-a]" is not rich markup
        table.add_row(*cells_text, *(["…"] if truncated else []))
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(table)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)
