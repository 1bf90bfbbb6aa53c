"""The stage graph: which stage's outputs feed which stage's deps.

As in DVC, a dependency is connected to an output when the two paths are
equal or one lies inside the other (a dep on ``data/x.csv`` depends on the
stage that outputs directory ``data``, and a dep on ``data`` depends on every
stage writing below it).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from dvcexp_plugin.errors import PipelineError
from dvcexp_plugin.pipeline.stage import Stage


class _PathTrie:
    """Maps repo-relative paths to owners; finds overlaps in O(depth)."""

    def __init__(self) -> None:
        self.root: dict[str, object] = {}

    def insert(self, path: str, owner: object) -> None:
        node = self.root
        for part in _parts(path):
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node.setdefault("\0", []).append(owner)  # type: ignore[attr-defined]

    def overlapping(self, path: str) -> list[object]:
        """Owners of paths equal to, above, or below ``path``."""
        found: list[object] = []
        node: object = self.root
        for part in _parts(path):
            assert isinstance(node, dict)
            found.extend(node.get("\0", []))
            node = node.get(part)
            if node is None:
                return found
        found.extend(_all_owners(node))
        return found

    def owners(self) -> list[object]:
        """Every owner, depth first, children in insertion order (DVC's trie order)."""
        return list(_all_owners(self.root))


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def _all_owners(node: object) -> Iterable[object]:
    assert isinstance(node, dict)
    for key, value in node.items():
        if key == "\0":
            yield from value
        else:
            yield from _all_owners(value)


class StageGraph:
    """Directed graph: ``upstream[stage]`` are the stages it depends on."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.by_address = {s.addressing: s for s in stages}
        self.upstream: dict[str, list[str]] = {s.addressing: [] for s in stages}
        self.downstream: dict[str, list[str]] = defaultdict(list)
        self._build()

    def _build(self) -> None:
        self._trie = trie = _PathTrie()
        owners: dict[str, tuple[Stage, str]] = {}
        for stage in self.stages:
            for out in stage.out_paths:
                if out in owners:
                    other = owners[out][0]
                    raise PipelineError(
                        f"output '{out}' is specified by both stage '{other.addressing}' and "
                        f"stage '{stage.addressing}'; give each stage its own outputs"
                    )
                for prior in trie.overlapping(out):
                    assert isinstance(prior, tuple)
                    raise PipelineError(
                        f"the output paths '{prior[1]}' (stage '{prior[0].addressing}') and "
                        f"'{out}' (stage '{stage.addressing}') overlap; "
                        "use outputs that do not lie inside each other"
                    )
                owners[out] = (stage, out)
                trie.insert(out, (stage, out))
        for stage in self.stages:
            seen: set[str] = set()
            for dep in stage.dep_paths:
                for owner in trie.overlapping(dep):
                    assert isinstance(owner, tuple)
                    up = owner[0].addressing
                    # a stage whose dep overlaps its own output is a cycle, as in DVC
                    if up not in seen:
                        seen.add(up)
                        self.upstream[stage.addressing].append(up)
                        self.downstream[up].append(stage.addressing)
        self._check_cycles()

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}
        for start in self.upstream:
            if start in state:
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = []
            while stack:
                node, index = stack.pop()
                if index == 0:
                    if state.get(node) == 2:
                        continue
                    state[node] = 1
                    path.append(node)
                ups = self.upstream[node]
                if index < len(ups):
                    stack.append((node, index + 1))
                    nxt = ups[index]
                    if state.get(nxt) == 1:
                        cycle = path[path.index(nxt):]
                        noun = "stage" if len(cycle) == 1 else "stages"
                        raise PipelineError(
                            "Same item(s) are defined as both a dependency and an output "
                            f"in {noun}: {', '.join(sorted(cycle))}; remove the dependency "
                            "or move the output so that no stage depends on its own outputs"
                        )
                    if state.get(nxt) != 2:
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    path.pop()

    def upstream_closure(self, addresses: Iterable[str]) -> list[str]:
        """The targets and everything they depend on, in DFS post-order (DVC's order)."""
        order: list[str] = []
        done: set[str] = set()
        for target in addresses:
            self._post_order(target, self.upstream, done, order)
        return order

    def downstream_closure(self, addresses: Iterable[str]) -> list[str]:
        """The targets and every stage depending on them, in execution order."""
        wanted: set[str] = set()
        todo = list(addresses)
        while todo:
            node = todo.pop()
            if node in wanted:
                continue
            wanted.add(node)
            todo.extend(self.downstream.get(node, []))
        order = self.upstream_closure(sorted(wanted))
        return [a for a in order if a in wanted]

    @staticmethod
    def _post_order(
        start: str, edges: dict[str, list[str]], done: set[str], order: list[str]
    ) -> None:
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if node in done and index == 0:
                continue
            ups = edges[node]
            if index < len(ups):
                stack.append((node, index + 1))
                if ups[index] not in done:
                    stack.append((ups[index], 0))
            else:
                if node not in done:
                    done.add(node)
                    order.append(node)

    def output_graph(self) -> tuple[list[str], list[tuple[str, str]]]:
        """DVC's graph of outputs (``dvc dag --outs``).

        :returns: every output path (repo-relative, in DVC's trie order) and the
            edges ``(out, dep_out)``: a stage writing ``out`` depends on ``dep_out``
        """
        nodes = [owner[1] for owner in self._trie.owners()]  # type: ignore[index]
        edges: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for stage in self.stages:
            for dep in stage.dep_paths:
                for owner in self._trie.overlapping(dep):
                    for out in stage.out_paths:
                        edge = (out, owner[1])  # type: ignore[index]
                        if edge not in seen:
                            seen.add(edge)
                            edges.append(edge)
        return nodes, edges

    def topological(self) -> list[str]:
        """Every stage, dependencies first."""
        return self.upstream_closure(self.by_address)
