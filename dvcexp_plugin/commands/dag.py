"""``dvcexp dag``: the stage graph as text, DOT or Mermaid."""
from __future__ import annotations

import argparse
import os
from typing import Any

from dvcexp_plugin.commands.loading import load_repo_pipeline, select_stages


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dag", parents=parents, help="Visualize the DAG of stages.",
        description="Show the stage graph (edges go from a stage to the stages it feeds).",
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--dot", action="store_true", help="Print DAG with .dot format.")
    fmt.add_argument("--mermaid", action="store_true", help="Print DAG with mermaid format.")
    fmt.add_argument("--md", action="store_true",
                     help="Print DAG with mermaid format wrapped in Markdown block.")
    parser.add_argument("--full", action="store_true",
                        help="Show full DAG that the target belongs to, instead of the DAG "
                        "consisting only of ancestors.")
    parser.add_argument("target", nargs="?", help="Stage name or path to dvc.yaml. "
                        "Finds all stages in the workspace by default.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _, pipeline = load_repo_pipeline()
    graph = pipeline.graph
    names = graph.topological()
    if args.target:
        targets = [s.addressing for s in select_stages(pipeline, [args.target], cwd=os.getcwd())]
        names = graph.upstream_closure(targets)
        if args.full:
            component = set(names) | set(graph.downstream_closure(names))
            names = [n for n in graph.topological() if n in component]
    keep = set(names)
    edges = [(up, node) for node in names for up in graph.upstream[node] if up in keep]
    if args.dot:
        print(render_dot(names, edges))
    elif args.mermaid or args.md:
        text = render_mermaid(names, edges)
        print(f"```mermaid\n{text}\n```" if args.md else text)
    else:
        print(render_text(names, edges))
    return 0


def render_dot(names: list[str], edges: list[tuple[str, str]]) -> str:
    lines = ["strict digraph  {"]
    lines += [f'"{n}";' for n in names]
    lines += [f'"{a}" -> "{b}";' for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


def render_mermaid(names: list[str], edges: list[tuple[str, str]]) -> str:
    ids = {n: f"node{i + 1}" for i, n in enumerate(names)}
    lines = ["flowchart TD"]
    lines += [f'\t{ids[n]}["{n}"]' for n in names]
    lines += [f"\t{ids[a]}-->{ids[b]}" for a, b in edges]
    return "\n".join(lines)


def render_text(names: list[str], edges: list[tuple[str, str]]) -> str:
    """Each stage on its own line, followed by the stages it feeds."""
    feeds: dict[str, list[str]] = {n: [] for n in names}
    for up, down in edges:
        feeds[up].append(down)
    lines = []
    for name in names:
        lines.append(f"+ {name}")
        for down in feeds[name]:
            lines.append(f"  -> {down}")
    return "\n".join(lines)
