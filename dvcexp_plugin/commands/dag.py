"""``dvcexp dag``: the stage graph as text, DOT or Mermaid, as ``dvc dag`` prints it.

``--dot`` and ``--mermaid``/``--md`` print the same text as DVC 3.x: nodes in
pipeline order (DOT) or sorted per connected pipeline (Mermaid), names as seen
from the working directory (``../dvc.yaml:train``). The plain-text form is our
own: DVC draws ASCII boxes.
"""
from __future__ import annotations

import argparse
import os
from collections import deque
from typing import Any

from dvcexp_plugin.commands.loading import load_repo_pipeline
from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline
from dvcexp_plugin.pipeline.describe import display_address

#: joins a foreach/matrix group name and the generated key
JOIN = "@"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dag", parents=parents, help="Visualize DVC project DAG.",
        description="Show the stage graph (edges go from a stage to the stages it feeds).",
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--dot", action="store_true", help="Print DAG with .dot format.")
    fmt.add_argument("--mermaid", action="store_true", help="Print DAG with mermaid format.")
    fmt.add_argument("--md", action="store_true", dest="markdown",
                     help="Print DAG with mermaid format wrapped in Markdown block.")
    parser.add_argument("--collapse-foreach-matrix", action="store_true",
                        help="Collapse stages from each foreach/matrix definition into a "
                        "single node.")
    parser.add_argument("--full", action="store_true",
                        help="Show full DAG that the target belongs to, instead of the DAG "
                        "consisting only of ancestors.")
    parser.add_argument("-o", "--outs", action="store_true",
                        help="Print output files instead of stages.")
    parser.add_argument("target", nargs="?", help="Stage name or output to show pipeline for. "
                        "Finds all stages in the workspace by default.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.outs and args.collapse_foreach_matrix:
        raise DvcExpError("`--outs` and `--collapse-foreach-matrix` are mutually exclusive")
    _, pipeline = load_repo_pipeline()
    cwd = os.getcwd()
    graph = build_graph(pipeline, cwd, outs=args.outs)
    targets = _targets(pipeline, args.target, cwd, outs=args.outs)
    graph = filter_graph(graph, targets, full=args.full)
    if args.collapse_foreach_matrix:
        graph = collapse_foreach_matrix(graph)
    if args.dot:
        print(render_dot(graph))
    elif args.mermaid or args.markdown:
        text = render_mermaid(graph)
        print(f"```mermaid\n{text}\n```" if args.markdown else text)
    else:
        print(render_text(graph))
    return 0


class Digraph:
    """A small directed graph that iterates as networkx does: nodes and each
    node's successors in insertion order. That order decides DVC's output.

    Edges point as in DVC's graph: from a stage to the stages it depends on.
    """

    def __init__(self) -> None:
        self.succ: dict[str, dict[str, None]] = {}

    def add_node(self, node: str) -> None:
        self.succ.setdefault(node, {})

    def add_edge(self, src: str, dst: str) -> None:
        self.add_node(src)
        self.add_node(dst)
        self.succ[src][dst] = None

    def remove_node(self, node: str) -> None:
        self.succ.pop(node, None)
        for successors in self.succ.values():
            successors.pop(node, None)

    @property
    def nodes(self) -> list[str]:
        return list(self.succ)

    def edges(self) -> list[tuple[str, str]]:
        return [(src, dst) for src, dsts in self.succ.items() for dst in dsts]

    def copy(self) -> Digraph:
        other = Digraph()
        other.succ = {node: dict(dsts) for node, dsts in self.succ.items()}
        return other

    def reachable(self, start: str) -> set[str]:
        """``start`` and every node it depends on, directly or not."""
        seen = {start}
        todo = deque([start])
        while todo:
            for nxt in self.succ[todo.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def components(self) -> list[list[str]]:
        """Weakly connected components, ordered by their first node (networkx's order)."""
        neighbours: dict[str, set[str]] = {node: set() for node in self.succ}
        for src, dst in self.edges():
            neighbours[src].add(dst)
            neighbours[dst].add(src)
        seen: set[str] = set()
        found = []
        for node in self.succ:
            if node in seen:
                continue
            component = {node}
            todo = deque([node])
            while todo:
                for nxt in neighbours[todo.popleft()]:
                    if nxt not in component:
                        component.add(nxt)
                        todo.append(nxt)
            seen |= component
            found.append([n for n in self.succ if n in component])
        return found


def build_graph(pipeline: Pipeline, cwd: str, outs: bool = False) -> Digraph:
    """DVC's stage graph (or output graph), labelled as seen from ``cwd``."""
    graph = Digraph()
    stages = pipeline.graph
    if outs:
        nodes, edges = stages.output_graph()
        label = {path: _relpath(pipeline.root, path, cwd) for path in nodes}
        for node in nodes:
            graph.add_node(label[node])
        for src, dst in edges:
            graph.add_edge(label[src], label[dst])
        return graph
    names = {s.addressing: display_address(s, pipeline.root, cwd) for s in pipeline.stages}
    for stage in pipeline.stages:
        graph.add_node(names[stage.addressing])
    for stage in pipeline.stages:
        for up in stages.upstream[stage.addressing]:
            graph.add_edge(names[stage.addressing], names[up])
    return graph


def _relpath(root: str, path: str, cwd: str) -> str:
    return os.path.relpath(os.path.join(root, path), cwd).replace(os.sep, "/")


def _targets(pipeline: Pipeline, target: str | None, cwd: str, outs: bool) -> list[str]:
    if not target:
        return []
    stages = pipeline.find(target, cwd=cwd, outputs=True)
    if outs:
        return [_relpath(pipeline.root, path, cwd) for s in stages for path in s.out_paths]
    return [display_address(s, pipeline.root, cwd) for s in stages]


def filter_graph(graph: Digraph, targets: list[str], full: bool) -> Digraph:
    """The targets with their ancestors, or (``full``) their whole pipelines.

    No targets (also: a target stage without outputs under ``--outs``) keeps
    the whole graph, as in DVC.
    """
    if not targets:
        return graph
    result = graph.copy()
    if not full:
        keep: set[str] = set()
        for target in targets:
            keep |= graph.reachable(target)
        for node in graph.nodes:
            if node not in keep:
                result.remove_node(node)
    connected: set[str] = set()
    for component in result.components():
        if any(t in component for t in targets):
            connected.update(component)
    for node in result.nodes:
        if node not in connected:
            result.remove_node(node)
    return result


def _group(node: str) -> str | None:
    if node.endswith(".dvc") or JOIN not in node:
        return None
    return node.split(JOIN)[0]


def collapse_foreach_matrix(graph: Digraph) -> Digraph:
    """One node per foreach/matrix group (``train@1``, ``train@2`` → ``train``).

    DVC adds the group nodes and edges from sets, so their order varies from
    run to run there; here they come in order of first appearance.
    """
    result = graph.copy()
    groups = list(dict.fromkeys(g for g in (_group(n) for n in graph.nodes) if g))
    new_edges: dict[tuple[str, str], None] = {}
    for src, dst in graph.edges():
        if _group(src) or _group(dst):
            result.succ[src].pop(dst, None)
            new_edges[(_group(src) or src, _group(dst) or dst)] = None
    for group in groups:
        result.add_node(group)
    for src, dst in new_edges:
        result.add_edge(src, dst)
    for node in graph.nodes:
        if _group(node):
            result.remove_node(node)
    return result


def render_dot(graph: Digraph) -> str:
    """``dvc dag --dot``: pydot's text of the reversed graph (producer -> consumer).

    DVC relabels the graph in place before reversing it, which leaves each
    node's successors in node order; so edges come grouped by producer, in
    node order, consumers in node order. The text ends with a newline, and
    DVC prints it with one more.
    """
    order = {node: index for index, node in enumerate(graph.nodes)}
    feeds: dict[str, list[str]] = {node: [] for node in graph.nodes}
    for src, dst in graph.edges():
        feeds[dst].append(src)
    lines = ["strict digraph {"]
    lines += [f"{_quote(node)};" for node in graph.nodes]
    for node in graph.nodes:
        for consumer in sorted(feeds[node], key=order.__getitem__):
            lines.append(f"{_quote(node)} -> {_quote(consumer)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(label: str) -> str:
    # DVC quotes every label (names may hold ':'), unless it is quoted already
    if label.startswith('"') and label.endswith('"'):
        return label
    return f'"{label}"'


def render_mermaid(graph: Digraph) -> str:
    """``dvc dag --mermaid``: per pipeline, nodes sorted, then edges sorted."""
    lines = ["flowchart TD"]
    count = 0
    for component in graph.components():
        ids: dict[str, str] = {}
        for node in sorted(component):
            count += 1
            ids[node] = f"node{count}"
            lines.append(f'\t{ids[node]}["{node}"]')
        members = set(component)
        edges = sorted((dst, src) for src, dst in graph.edges() if src in members)
        lines += [f"\t{ids[up]}-->{ids[down]}" for up, down in edges]
    return "\n".join(lines)


def render_text(graph: Digraph) -> str:
    """Each pipeline, its stages dependencies first, each followed by the stages it feeds."""
    feeds: dict[str, list[str]] = {node: [] for node in graph.nodes}
    for src, dst in graph.edges():
        feeds[dst].append(src)
    blocks = []
    for component in graph.components():
        lines = []
        for node in _dependencies_first(graph, component):
            lines.append(f"+ {node}")
            lines += [f"  -> {down}" for down in feeds[node]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _dependencies_first(graph: Digraph, component: list[str]) -> list[str]:
    order: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        stack = [(node, iter(graph.succ[node]))]
        done.add(node)
        while stack:
            current, pending = stack[-1]
            nxt = next((n for n in pending if n not in done), None)
            if nxt is None:
                stack.pop()
                order.append(current)
            else:
                done.add(nxt)
                stack.append((nxt, iter(graph.succ[nxt])))

    for node in component:
        if node not in done:
            visit(node)
    return order
