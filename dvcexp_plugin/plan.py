"""DVC's repro planning: which stages are considered, and which may run.

``plan_repro`` follows ``dvc repro``: collect the targets (default: every
stage of the ``dvc.yaml`` in the working directory), add their upstream stages
in DFS post-order unless ``single_item``, or their downstream ones with
``downstream``; frozen stages cut the graph above them. Each planned stage is
judged against its own lock entry. The stages handed to the engine are the
changed ones plus everything downstream of them inside the plan (an upstream
re-run may change their inputs); the stage runner makes the final call.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from dvcexp_plugin.pipeline import Pipeline, Stage
from dvcexp_plugin.status import StatusChecker


@dataclass
class ReproOptions:
    """The ``dvc repro`` flags that shape a plan."""

    targets: list[str] = field(default_factory=list)
    single_item: bool = False
    recursive: bool = False
    downstream: bool = False
    all_pipelines: bool = False
    force: bool = False
    force_downstream: bool = False


@dataclass
class Plan:
    """The outcome of planning.

    :param order: every planned stage, dependencies first
    :param changed: addressing → DVC status of stages that changed
    :param to_run: stages handed to the engine (changed + downstream, or all with -f)
    :param forced: stages whose runner must run the command whatever the lock says
    """

    order: list[Stage]
    changed: dict[str, list[object]]
    to_run: list[Stage]
    forced: set[str]

    @property
    def empty(self) -> bool:
        return not self.to_run


def collect_targets(pipeline: Pipeline, options: ReproOptions, cwd: str) -> list[Stage]:
    """The stages named by the targets (DVC's defaults when there are none)."""
    from dvcexp_plugin.commands.loading import select_stages

    if options.all_pipelines:
        return list(pipeline.stages)
    targets = options.targets
    if not targets:
        here = os.path.relpath(cwd, pipeline.root).replace(os.sep, "/")
        dvcfile = "dvc.yaml" if here == "." else f"{here}/dvc.yaml"
        return [s for s in pipeline.stages if s.dvcfile == dvcfile] or (
            select_stages(pipeline, ["dvc.yaml"], cwd=cwd)
        )
    return select_stages(pipeline, targets, recursive=options.recursive, cwd=cwd, outputs=True)


def _active_upstream(pipeline: Pipeline) -> dict[str, list[str]]:
    """Upstream edges with the edges above frozen stages cut (DVC's active graph)."""
    graph = pipeline.graph
    return {
        name: ([] if graph.by_address[name].frozen else list(ups))
        for name, ups in graph.upstream.items()
    }


def plan_repro(
    pipeline: Pipeline, options: ReproOptions, checker: StatusChecker, cwd: str
) -> Plan:
    """Plan a ``repro`` as DVC would (see module docstring)."""
    graph = pipeline.graph
    targets = [s.addressing for s in collect_targets(pipeline, options, cwd)]
    upstream = _active_upstream(pipeline)
    if options.single_item:
        names = list(dict.fromkeys(targets))
        topo = {n: i for i, n in enumerate(graph.topological())}
        names.sort(key=topo.__getitem__)
    elif options.downstream:
        names = graph.downstream_closure(targets)
    else:
        done: set[str] = set()
        names = []
        for target in targets:
            graph._post_order(target, upstream, done, names)
    order = [graph.by_address[n] for n in names]
    changed: dict[str, list[object]] = {}
    for stage in order:
        status = checker.status(stage)
        if status:
            changed[stage.addressing] = status
    planned = set(names)
    if options.force:
        seeds = set(names)
    else:
        seeds = {n for n in names if n in changed and not graph.by_address[n].frozen}
    to_run_names: set[str] = set()
    todo = list(seeds)
    while todo:
        node = todo.pop()
        if node in to_run_names or node not in planned:
            continue
        to_run_names.add(node)
        todo.extend(d for d in graph.downstream.get(node, []) if not graph.by_address[d].frozen)
    # frozen stages that are planned still "run" (they verify their outputs)
    to_run_names |= {n for n in names if graph.by_address[n].frozen and n in changed}
    forced = set(names) if options.force else set()
    to_run = [s for s in order if s.addressing in to_run_names]
    return Plan(order=order, changed=changed, to_run=to_run, forced=forced)
