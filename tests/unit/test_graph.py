"""The stage graph: edges from outputs to deps, the checks DVC makes, the order.

The error cases were run through ``dvc dag`` (DVC 3.67.1); its texts are
quoted where ours differ in wording.
"""
from __future__ import annotations

import pytest

from dvcexp_plugin.errors import PipelineError
from dvcexp_plugin.pipeline import Output, Stage
from dvcexp_plugin.pipeline.graph import StageGraph


def stage(name: str, deps: tuple[str, ...] = (), outs: tuple[str, ...] = (), wdir: str = ".",
          dvcfile: str = "dvc.yaml") -> Stage:
    return Stage(name=name, dvcfile=dvcfile, wdir=wdir, cmd="echo", deps=list(deps),
                 outs=[Output(path) for path in outs])


def upstream(*stages: Stage) -> dict[str, list[str]]:
    return StageGraph(list(stages)).upstream


@pytest.mark.parametrize(
    ("out", "dep"),
    [
        ("data", "data"),          # equal
        ("data", "data/x.csv"),    # the dep lies inside the output directory
        ("data/x.csv", "data"),    # the dep is a directory holding the output
        ("data/", "data/x.csv"),   # a trailing slash changes nothing
        ("./data", "data"),
    ],
)
def test_edges_for_equal_inside_and_parent_paths(out: str, dep: str) -> None:
    assert upstream(stage("a", outs=(out,)), stage("b", deps=(dep,)))["b"] == ["a"]


def test_no_edge_for_a_sibling_with_a_common_prefix() -> None:
    assert upstream(stage("a", outs=("data",)), stage("b", deps=("data2", "dat")))["b"] == []


def test_paths_are_joined_with_wdir() -> None:
    graph = upstream(
        stage("a", outs=("out",), wdir="sub", dvcfile="sub/dvc.yaml"),
        stage("b", deps=("../sub/out",), wdir="other"),
    )
    assert graph["b"] == ["sub/dvc.yaml:a"]


def test_a_dep_on_a_directory_depends_on_every_stage_writing_below_it() -> None:
    graph = StageGraph([
        stage("x", outs=("data/x",)), stage("y", outs=("data/y",)), stage("all", deps=("data",)),
    ])
    assert graph.upstream["all"] == ["x", "y"]
    assert graph.downstream["x"] == ["all"]


def test_duplicate_outputs_are_an_error() -> None:
    # DVC: "output 'x' is specified in:\n\t- a\n\t- b\nUse `dvc remove` …"
    with pytest.raises(PipelineError) as info:
        StageGraph([stage("a", outs=("x",)), stage("b", outs=("x",))])
    assert str(info.value) == (
        "output 'x' is specified by both stage 'a' and stage 'b'; give each stage its own outputs"
    )


@pytest.mark.parametrize("order", [("data", "data/x"), ("data/x", "data")])
def test_overlapping_outputs_are_an_error(order: tuple[str, str]) -> None:
    # DVC: "The output paths:\n'data'('a')\n'data/x'('b')\noverlap and are thus in the
    # same tracked directory. …"
    with pytest.raises(PipelineError, match="overlap; use outputs that do not lie inside each"):
        StageGraph([stage("a", outs=(order[0],)), stage("b", outs=(order[1],))])


def test_a_cycle_is_an_error() -> None:
    # DVC: "Same item(s) are defined as both a dependency and an output in stages: b, a."
    with pytest.raises(PipelineError) as info:
        StageGraph([
            stage("a", deps=("y",), outs=("x",)),
            stage("b", deps=("x",), outs=("z",)),
            stage("c", deps=("z",), outs=("y",)),
            stage("free", deps=("x",)),
        ])
    message = str(info.value)
    assert message.startswith(
        "Same item(s) are defined as both a dependency and an output in stages: a, b, c;"
    )
    assert "\n" not in message


@pytest.mark.parametrize("dep", ["x", "x/inner", "."])
def test_a_stage_depending_on_its_own_output_is_an_error(dep: str) -> None:
    # DVC: "Same item(s) are defined as both a dependency and an output in stage: a."
    with pytest.raises(PipelineError, match=r"in stage: a; remove the dependency"):
        StageGraph([stage("a", deps=(dep,), outs=("x",))])


def test_upstream_closure_is_dfs_post_order_in_dep_order() -> None:
    graph = StageGraph([
        stage("evaluate", deps=("model", "features")),
        stage("train", deps=("features", "raw"), outs=("model",)),
        stage("featurize", deps=("raw",), outs=("features",)),
        stage("fetch", outs=("raw",)),
        stage("other"),
    ])
    assert graph.upstream_closure(["evaluate"]) == ["fetch", "featurize", "train", "evaluate"]
    assert graph.topological() == ["fetch", "featurize", "train", "evaluate", "other"]
    assert graph.downstream_closure(["featurize"]) == ["featurize", "train", "evaluate"]


def test_output_graph_follows_dvc_trie_order() -> None:
    graph = StageGraph([
        stage("b", deps=("data/a",), outs=("model",)),
        stage("a", outs=("data/a",)),
        stage("c", deps=("model", "data"), outs=("m.json", "data2/z")),
    ])
    nodes, edges = graph.output_graph()
    assert nodes == ["model", "data/a", "m.json", "data2/z"]
    assert edges == [
        ("model", "data/a"),
        ("m.json", "model"), ("data2/z", "model"), ("m.json", "data/a"), ("data2/z", "data/a"),
    ]
