"""dvc.yaml → resolved stages: vars, ``${}``, foreach, matrix, wdir, params, outs.

Each expectation was compared with DVC 3.67.1 on the same files (its resolved
stages, or its error text, quoted where we word the error the same way).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dvcexp_plugin.errors import DvcExpError, DvcFileSyntaxError, ResolveError
from dvcexp_plugin.pipeline import Output, ParamsDep, Stage, load_pipeline


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def resolve(root: Path, files: dict[str, str], **config: str) -> dict[str, Stage]:
    """Write ``files`` under ``root`` and resolve every dvc.yaml; stages by address."""
    _write(root, files)
    pipeline = load_pipeline(str(root), parsing_config=config or None)
    return {stage.addressing: stage for stage in pipeline.stages}


def error(root: Path, files: dict[str, str]) -> str:
    """The one-line message of the error resolving ``files``."""
    with pytest.raises(DvcExpError) as info:
        resolve(root, files)
    message = str(info.value)
    assert "\n" not in message
    return message


def cmds(stages: dict[str, Stage]) -> dict[str, object]:
    return {name: stage.cmd for name, stage in stages.items()}


# -- vars and the context ---------------------------------------------------
def test_vars_files_keys_inline_and_formats(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": """
            vars:
              - config.yaml
              - other.json:a,c
              - {inline: 5, nest: {q: 1}}
              - cfg.toml
              - pp.py
            stages:
              s:
                cmd: echo ${x} ${a} ${c} ${inline} ${nest.q} ${t.k} ${P} ${Cls.v} ${base}
        """,
        "params.yaml": "base: 0\n",
        "config.yaml": "x: 1\n",
        "other.json": '{"a": 1, "b": [1, 2], "c": 3}',
        "cfg.toml": "[t]\nk = 'v'\n",
        "pp.py": "P = 3\nclass Cls:\n    v = 4\n",
    })
    assert stages["s"].cmd == "echo 1 1 3 5 1 v 3 4 0"


def test_only_the_named_keys_of_a_partial_file_are_loaded(tmp_path: Path) -> None:
    message = error(tmp_path, {
        "dvc.yaml": "vars: [other.yaml:a]\nstages:\n  s:\n    cmd: echo ${b}\n",
        "other.yaml": "a: 1\nb: 2\n",
    })
    assert message == "failed to parse 'stages.s.cmd' in 'dvc.yaml': Could not find 'b'"


@pytest.mark.parametrize("vars_", ["[other.yaml, other.yaml]", "[other.yaml:a, other.yaml:b]"])
def test_loading_a_file_twice_is_fine_when_nothing_overlaps(tmp_path: Path, vars_: str) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": f"vars: {vars_}\nstages:\n  s:\n    cmd: echo ${{a}} ${{b}}\n",
        "other.yaml": "a: 1\nb: 2\n",
    })
    assert stages["s"].cmd == "echo 1 2"


@pytest.mark.parametrize(
    ("vars_", "message"),
    [
        ("[other.yaml:a, other.yaml]", "cannot load 'other.yaml' as it's partially loaded already"),
        ("[other.yaml:a, other.yaml:a]", "cannot load 'other.yaml:a' as it's partially loaded already"),
        ("[params.yaml:p]", "cannot partially load 'params.yaml:p' as it's already loaded."),
    ],
)
def test_loading_a_file_twice_in_conflicting_ways(tmp_path: Path, vars_: str, message: str) -> None:
    got = error(tmp_path, {
        "dvc.yaml": f"vars: {vars_}\nstages:\n  s:\n    cmd: echo\n",
        "other.yaml": "a: 1\nb: 2\n",
        "params.yaml": "p: 1\n",
    })
    assert got == f"failed to parse 'vars' in 'dvc.yaml': {message}"


def test_nested_mappings_merge(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": """
            vars:
              - {m: {a: 1}}
              - {m: {b: 2}}
            stages:
              s:
                cmd: echo ${m.a} ${m.b}
        """,
    })
    assert stages["s"].cmd == "echo 1 2"


@pytest.mark.parametrize(
    ("vars_", "params", "message"),
    [
        ("[{lr: 1}, {lr: 2}]", "", "cannot redefine 'lr' from 'vars[1]' as it already exists in 'vars[0]'"),
        ("[{m: {a: 1}}, {m: {a: 2}}]", "", "cannot redefine 'm.a' from 'vars[1]' as it already exists in 'vars[0]'"),
        ("[{a: 5}]", "a: 1\n", "cannot redefine 'a' from 'vars[0]' as it already exists in 'params.yaml'"),
    ],
)
def test_merge_conflicts(tmp_path: Path, vars_: str, params: str, message: str) -> None:
    files = {"dvc.yaml": f"vars: {vars_}\nstages:\n  s:\n    cmd: echo\n"}
    if params:
        files["params.yaml"] = params
    assert error(tmp_path, files) == f"failed to parse 'vars' in 'dvc.yaml': {message}"


def test_stage_vars_are_relative_to_wdir(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": """
            stages:
              s:
                wdir: sub
                vars:
                  - local.yaml
                  - {z: 9}
                cmd: echo ${l} ${z} ${top}
                deps: ["${l}.txt"]
        """,
        "params.yaml": "top: 1\n",
        "sub/local.yaml": "l: 7\n",
        "sub/params.yaml": "l: 8\n",  # not loaded: only the dvc.yaml's own params.yaml is
    })
    assert stages["s"].cmd == "echo 7 9 1"
    assert stages["s"].dep_paths == ["sub/7.txt"]


def test_stage_vars_conflict_names_the_stage(tmp_path: Path) -> None:
    message = error(tmp_path, {
        "dvc.yaml": "stages:\n  s:\n    vars: [{top: 2}]\n    cmd: echo ${top}\n",
        "params.yaml": "top: 1\n",
    })
    # DVC 3.67.1, word for word
    assert message == (
        "failed to parse stage 's' in 'dvc.yaml': "
        "cannot redefine 'top' from 's.vars[0]' as it already exists in 'params.yaml'"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("vars: [{x: '${top}'}]\nstages:\n  s:\n    cmd: echo\n", "'vars'"),
        ("stages:\n  s:\n    vars: [{x: '${top}'}]\n    cmd: echo\n", "'stages.s.vars'"),
    ],
)
def test_interpolation_inside_vars_is_refused(tmp_path: Path, text: str, where: str) -> None:
    message = error(tmp_path, {"dvc.yaml": text, "params.yaml": "top: 1\n"})
    assert message == f"failed to parse {where} in 'dvc.yaml': interpolating is not allowed"


def test_missing_vars_file(tmp_path: Path) -> None:
    message = error(tmp_path, {"sub/dvc.yaml": "vars: [nothere.yaml]\nstages:\n  s:\n    cmd: echo\n"})
    assert message == "failed to parse 'vars' in 'sub/dvc.yaml': 'sub/nothere.yaml' does not exist"


def test_a_vars_file_must_hold_a_mapping(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "vars: [x.yaml]\nstages:\n  s:\n    cmd: echo\n",
                               "x.yaml": "- a\n"})
    assert message == (
        "failed to parse 'vars' in 'dvc.yaml': expected a dictionary, got 'list' in file 'x.yaml'"
    )


def test_unsupported_values_fail_even_when_unused(tmp_path: Path) -> None:
    # DVC 3.67.1: "unexpected error - Unsupported value of type 'date' in 'params.yaml:l.1.x'"
    message = error(tmp_path, {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n",
                               "params.yaml": "l: [1, {x: 2001-12-14}]\n"})
    assert "Unsupported value of type 'date' in 'params.yaml:l.1.x'" in message
    assert "quote it" in message


def test_partial_load_checks_only_the_loaded_keys(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": "vars: [x.yaml:a]\nstages:\n  s:\n    cmd: echo ${a}\n",
                                "x.yaml": "a: 1\nd: 2001-12-14\n"})
    assert stages["s"].cmd == "echo 1"


def test_missing_key_in_cmd(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "stages:\n  a:\n    cmd: echo ${foo.bar}\n"})
    assert message == "failed to parse 'stages.a.cmd' in 'dvc.yaml': Could not find 'foo.bar'"


def test_int_keys_are_not_found_by_index(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "stages:\n  f:\n    cmd: echo ${d[0]}\n",
                               "params.yaml": "d: {0: z}\n"})
    assert message == "failed to parse 'stages.f.cmd' in 'dvc.yaml': Could not find 'd.0'"


# -- rendering ------------------------------------------------------------
def test_dict_in_cmd_and_parsing_config(tmp_path: Path) -> None:
    files = {
        "dvc.yaml": "stages:\n  a:\n    cmd:\n      - echo ${lr}\n      - python t.py ${opts}\n",
        "params.yaml": "lr: 0.1\nopts: {flag: true, off: false, layers: [1, 2]}\n",
    }
    assert resolve(tmp_path, files)["a"].cmd == ["echo 0.1", "python t.py --flag --layers 1 2"]
    config = {"bool": "boolean_optional", "list": "append"}
    assert resolve(tmp_path, files, **config)["a"].cmd == [
        "echo 0.1", "python t.py --flag --no-off --layers 1 --layers 2",
    ]


def test_a_command_that_is_a_dict_is_refused(tmp_path: Path) -> None:
    # DVC keeps {'a': 1} as the command and fails later, when running it
    message = error(tmp_path, {"dvc.yaml": "stages:\n  a:\n    cmd: ${o}\n", "params.yaml": "o: {a: 1}\n"})
    assert message.startswith("failed to parse 'stages.a.cmd' in 'dvc.yaml': a command must be text")
    assert "python train.py ${opts}" in message


def test_yaml_12_values_render_as_dvc_renders_them(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": "stages:\n  f:\n    cmd: echo ${v.a} ${v.b} ${v.c} ${v.d} ${v.e} ${v.f} ${v.g}\n",
        "params.yaml": "v: {a: yes, b: off, c: 1e3, d: 0755, e: 0x1F, f: True, g: 1_000}\n",
    })
    assert stages["f"].cmd == "echo yes off 1000.0 755 31 true 1000"


# -- foreach and matrix ---------------------------------------------------
def test_foreach_forms_and_generated_names(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": """
            stages:
              lst:
                foreach: [a, 3, 1.5, true]
                do:
                  cmd: echo ${item}
              lod:
                foreach: [{x: 1}, {x: 2}]
                do:
                  cmd: echo ${item.x}
              mixed:
                foreach: [a, [1, 2]]
                do:
                  cmd: echo
              dct:
                foreach:
                  us: {x: 1}
                  eu: {x: 2}
                do:
                  cmd: echo ${key} ${item.x}
                  outs: ["${key}.out"]
              fromvar:
                foreach: ${models}
                do:
                  cmd: echo ${item.name}
              fromvardict:
                foreach: ${regions}
                do:
                  cmd: echo ${key}=${item}
        """,
        "params.yaml": "models: [{name: m1}, {name: m2}]\nregions: {north: 1, south: 2}\n",
    })
    assert cmds(stages) == {
        "lst@a": "echo a", "lst@3": "echo 3", "lst@1.5": "echo 1.5", "lst@true": "echo true",
        "lod@0": "echo 1", "lod@1": "echo 2",
        "mixed@0": "echo", "mixed@1": "echo",
        "dct@us": "echo us 1", "dct@eu": "echo eu 2",
        "fromvar@0": "echo m1", "fromvar@1": "echo m2",
        "fromvardict@north": "echo north=1", "fromvardict@south": "echo south=2",
    }
    assert stages["dct@eu"].out_paths == ["eu.out"]


def test_foreach_item_shadows_a_var_of_the_same_name(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": """
        vars: [{item: 5}]
        stages:
          f:
            foreach: [a]
            do:
              cmd: echo ${item}
    """})
    assert stages["f@a"].cmd == "echo a"


def test_foreach_over_a_scalar_is_an_error(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "stages:\n  f:\n    foreach: ${lr}\n    do:\n      cmd: echo\n",
                               "params.yaml": "lr: 1\n"})
    # DVC 3.67.1, word for word
    assert message == (
        "failed to resolve 'stages.f.foreach' in 'dvc.yaml': expected list/dictionary, got int"
    )


def test_errors_in_generated_stages_name_the_generated_stage(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "stages:\n  f:\n    foreach: [{a: 1}]\n"
                                           "    do:\n      cmd: echo ${item.nokey}\n"})
    assert message == "failed to parse 'stages.f@0.cmd' in 'dvc.yaml': Could not find 'item.nokey'"


def test_foreach_generating_a_name_twice_is_an_error(tmp_path: Path) -> None:
    # DVC silently keeps one of the two 'f@1' stages
    message = error(tmp_path, {"dvc.yaml": "stages:\n  f:\n    foreach: [1, '1']\n    do:\n      cmd: echo\n"})
    assert message == "'dvc.yaml': 'stages.f' generates 'f@1' twice; make its foreach/matrix values unique"


@pytest.mark.parametrize("order", ["explicit_first", "foreach_first"])
def test_a_stage_name_with_at_is_refused(tmp_path: Path, order: str) -> None:
    explicit = "  a@1:\n    cmd: echo explicit\n"
    generated = "  a:\n    foreach: [1, 2]\n    do:\n      cmd: echo ${item}\n"
    body = explicit + generated if order == "explicit_first" else generated + explicit
    message = error(tmp_path, {"dvc.yaml": "stages:\n" + body})
    assert message.startswith("'dvc.yaml': stage name 'a@1' contains '@'")
    assert message.endswith("rename the stage")


def test_matrix_keys_and_items(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {
        "dvc.yaml": """
            stages:
              mx:
                matrix:
                  m: [lr, svm]
                  s: [small]
                  d: [{k: 1}, [1, 2]]
                cmd: echo ${item.m} ${item.s} ${key}
                outs: ["${item.m}-${item.s}.pkl"]
              mv:
                matrix:
                  m: ${models}
                  b: [true, false]
                cmd: echo ${item.m} ${item.b}
        """,
        "params.yaml": "models: [a, b]\n",
    })
    assert list(stages) == [
        "mx@lr-small-d0", "mx@lr-small-d1", "mx@svm-small-d0", "mx@svm-small-d1",
        "mv@a-true", "mv@a-false", "mv@b-true", "mv@b-false",
    ]
    assert stages["mx@lr-small-d0"].cmd == "echo lr small lr-small-d0"
    assert stages["mx@svm-small-d1"].out_paths == ["svm-small.pkl"]
    assert stages["mv@b-false"].cmd == "echo b false"


def test_matrix_axis_that_is_not_a_list(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "stages:\n  m:\n    matrix:\n      x: ${n}\n    cmd: echo\n",
                               "params.yaml": "n: 1\n"})
    # DVC 3.67.1 crashes here ("'Value' object is not iterable")
    assert message == "failed to resolve 'stages.m.matrix.x' in 'dvc.yaml': expected list, got int"


def test_matrix_inside_do_is_ignored(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": """
        stages:
          f:
            foreach: [1]
            do:
              matrix: {x: [1, 2]}
              cmd: echo ${item}
    """})
    assert cmds(stages) == {"f@1": "echo 1"}


# -- paths, params, outputs -----------------------------------------------
def test_wdir_paths_stay_as_written(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"sub/dvc.yaml": """
        stages:
          w:
            wdir: ${d}
            cmd: echo
            deps: [../x, y]
            outs: [o]
    """, "sub/params.yaml": "d: deeper\n"})
    stage = stages["sub/dvc.yaml:w"]
    assert (stage.wdir, stage.deps, stage.dep_paths, stage.out_paths) == (
        "sub/deeper", ["../x", "y"], ["sub/x", "sub/deeper/y"], ["sub/deeper/o"],
    )
    assert stage.lockfile == "sub/dvc.lock"


def test_params_forms(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": """
        stages:
          p:
            cmd: echo
            params:
              - lr
              - model.depth
              - other.yaml: [a, b.c]
              - whole.yaml:
              - cfg.json: [x]
              - cfg.toml: [t.k]
              - pp.py: [P]
              - empty.yaml: []
          whole_wins:
            cmd: echo
            params:
              - other.yaml: [a]
              - other.yaml:
              - other.yaml: [b]
              - lr
              - params.yaml:
          in_wdir:
            wdir: sub
            cmd: echo
            params: [lr, {../other.yaml: [a]}]
          duplicates:
            cmd: echo
            params: [lr, lr, {params.yaml: [lr]}]
    """})
    assert stages["p"].params == [
        ParamsDep("params.yaml", ("lr", "model.depth")),
        ParamsDep("other.yaml", ("a", "b.c")),
        ParamsDep("whole.yaml", ()),
        ParamsDep("cfg.json", ("x",)),
        ParamsDep("cfg.toml", ("t.k",)),
        ParamsDep("pp.py", ("P",)),
        ParamsDep("empty.yaml", ()),
    ]
    assert stages["whole_wins"].params == [ParamsDep("other.yaml", ()), ParamsDep("params.yaml", ())]
    assert [(stages["in_wdir"].repo_path(p.path), p.keys) for p in stages["in_wdir"].params] == [
        ("sub/params.yaml", ("lr",)), ("other.yaml", ("a",)),
    ]
    # DVC keeps a key listed twice
    assert stages["duplicates"].params == [ParamsDep("params.yaml", ("lr", "lr", "lr"))]


def test_outputs_and_their_options(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": """
        stages:
          o:
            cmd: echo
            outs:
              - a
              - b: {cache: false, persist: true, push: false, remote: r, desc: d, type: t,
                    labels: [x], meta: {q: 1}}
              - {c: {cache: false}, d: {persist: true}}
            metrics:
              - m.json: {cache: false}
            plots:
              - p.csv: {x: a, y: b, template: linear, title: T, header: true, cache: false}
              - q.csv
            frozen: true
            always_changed: true
            desc: hello
            meta: {owner: me}
    """})
    stage = stages["o"]
    assert [(o.path, o.kind, o.cache, o.persist) for o in stage.outs] == [
        ("a", "outs", True, False), ("b", "outs", False, True), ("c", "outs", False, False),
        ("d", "outs", True, True), ("m.json", "metrics", False, False),
        ("p.csv", "plots", False, False), ("q.csv", "plots", True, False),
    ]
    assert stage.outs[1] == Output(
        "b", "outs", cache=False, persist=True, push=False, remote="r", desc="d", type="t",
        labels=("x",), meta={"q": 1},
    )
    assert dict(stage.outs[5].plot_props) == {
        "x": "a", "y": "b", "template": "linear", "title": "T", "header": True,
    }
    assert (stage.frozen, stage.always_changed, stage.desc, stage.meta) == (
        True, True, "hello", {"owner": "me"},
    )


def test_top_level_sections_are_accepted(tmp_path: Path) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": """
        params: [p.yaml]
        metrics: [m.json]
        plots:
          - p.json
          - myplot:
              x: a
              y: {p.csv: [b, c]}
              template: linear
          - a.csv: {x: a}
            b.csv:
        artifacts:
          model: {path: m.pkl, type: model, desc: d, labels: [a], meta: {x: 1}}
        datasets:
          - {name: ds, url: "http://x", type: url}
        stages:
          s:
            cmd: echo
    """})
    assert list(stages) == ["s"]


@pytest.mark.parametrize(
    ("cmd", "expected"),
    # DVC 3.67.1 loads all three (and keeps [1, true] as numbers)
    [('""', ""), ("[]", []), ("[1, true]", ["1", "true"])],
)
def test_commands_dvc_accepts(tmp_path: Path, cmd: str, expected: object) -> None:
    stages = resolve(tmp_path, {"dvc.yaml": f"stages:\n  o:\n    cmd: {cmd}\n"})
    assert stages["o"].cmd == expected


def test_native_number_as_a_path_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, {"dvc.yaml": "stages:\n  f:\n    cmd: echo\n    deps: ['${n}']\n",
                               "params.yaml": "n: 5\n"})
    # DVC 3.67.1 crashes: "'int' object has no attribute 'decode'"
    assert message.startswith("failed to parse 'stages.f.deps' in 'dvc.yaml': expected a path, got int")


def test_an_empty_file_has_no_stages(tmp_path: Path) -> None:
    assert resolve(tmp_path, {"dvc.yaml": ""}) == {}
    assert resolve(tmp_path, {"dvc.yaml": "vars: [{a: 1}]\n"}) == {}


# -- schema errors --------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages:\n  a:\n    cmd: echo\n    dep: [x]\n",
         "'dvc.yaml' validation failed at 'stages.a.dep': extra keys not allowed; "
         "remove 'dep' or use one of: always_changed, cmd, deps, desc, frozen, matrix, meta, "
         "metrics, outs, params, plots, vars, wdir"),
        ("stage:\n  a:\n    cmd: echo\n",
         "'dvc.yaml' validation failed at 'stage': extra keys not allowed; remove 'stage' or use "
         "one of: artifacts, datasets, metrics, params, plots, stages, vars"),
        ("stages:\n  a:\n    deps: [x]\n",
         "'dvc.yaml' validation failed at 'stages.a.cmd': required key not provided; "
         "add the command to run as 'cmd'"),
        # DVC 3 dropped 'locked' (DVC 1.x); dvc stage list: "extra keys not allowed"
        ("stages:\n  a:\n    cmd: echo\n    locked: true\n",
         "'dvc.yaml' validation failed at 'stages.a.locked': extra keys not allowed; "
         "remove 'locked' or use one of: always_changed, cmd, deps, desc, frozen, matrix, meta, "
         "metrics, outs, params, plots, vars, wdir"),
        ("stages:\n  a:\n    foreach: [1]\n    cmd: echo\n",
         "'dvc.yaml' validation failed at 'stages.a.cmd': extra keys not allowed; "
         "a foreach stage keeps 'cmd' under 'do'"),
        ("stages:\n  a:\n    cmd: echo\n    frozen: ${flag}\n",
         "'dvc.yaml' validation failed at 'stages.a.frozen': expected a boolean, got a string"),
        ("stages:\n  a:\n    cmd: echo\n    deps: ${files}\n",
         "'dvc.yaml' validation failed at 'stages.a.deps': expected a list, got a string"),
        ("stages:\n  a:\n    cmd: echo\n    outs:\n      - c:\n",
         "'dvc.yaml' validation failed at 'stages.a.outs[0].c': expected a dictionary, got "
         "nothing; give options ('c: {cache: false}') or write the path alone"),
        ("stages:\n  a:\n    cmd: echo\n    plots: [{p.csv: {y: {a: b}}}]\n",
         "'dvc.yaml' validation failed at 'stages.a.plots[0].p.csv.y': expected a string, "
         "got a dictionary"),
        ("stages:\n  a:\n    matrix: ${m}\n    cmd: echo\n",
         "'dvc.yaml' validation failed at 'stages.a.matrix': expected a dictionary, got a string"),
        ("stages:\n", "'dvc.yaml' validation failed at 'stages': expected a dictionary, got nothing"),
        ("plots:\n  a.csv: {x: a}\n", "'dvc.yaml' validation failed at 'plots': expected a list, "
         "got a dictionary"),
        ("stages:\n  a:\n    cmd: echo\n    params: [{other.yaml: a}]\n",
         "'dvc.yaml' validation failed at 'stages.a.params[0].other.yaml': expected a list, got "
         "a string; write the keys as a list ('other.yaml: [key]'), or nothing to track the "
         "whole file"),
    ],
)
def test_schema_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DvcFileSyntaxError) as info:
        resolve(tmp_path, {"dvc.yaml": text})
    assert str(info.value) == message


def test_resolve_errors_are_resolve_errors(tmp_path: Path) -> None:
    with pytest.raises(ResolveError):
        resolve(tmp_path, {"dvc.yaml": "stages:\n  a:\n    cmd: echo ${nope}\n"})
