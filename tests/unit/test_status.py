"""StatusChecker: DVC's status items, in DVC's order and wording."""
from __future__ import annotations

from pathlib import Path

from dvcexp_plugin.cache import ObjectCache
from dvcexp_plugin.hashing import hash_path
from dvcexp_plugin.lock import build_entry, dep_item, write_entry
from dvcexp_plugin.params_values import ParamsReader
from dvcexp_plugin.pipeline import Output, ParamsDep, Stage
from dvcexp_plugin.status import StatusChecker, format_status
from dvcexp_plugin.workspace_hasher import WorkspaceHasher


def _checker(root: Path) -> StatusChecker:
    (root / ".dvc").mkdir(exist_ok=True)
    return StatusChecker(str(root), ObjectCache.for_repo(str(root)),
                         WorkspaceHasher(str(root)), cwd=str(root))


def _stage(**kwargs: object) -> Stage:
    base: dict[str, object] = {"name": "train", "dvcfile": "dvc.yaml", "wdir": ".",
                               "cmd": "python train.py"}
    base.update(kwargs)
    return Stage(**base)  # type: ignore[arg-type]


def _lock(root: Path, stage: Stage, params: dict[str, dict[str, object]]) -> None:
    deps = []
    for dep in stage.deps:
        info, _ = hash_path(str(root / dep))
        deps.append(dep_item(dep, info.md5, info.size))
    outs = []
    for out in stage.outs:
        info, _ = hash_path(str(root / out.path))
        outs.append(dep_item(out.path, info.md5, info.size))
    write_entry(str(root / "dvc.lock"), stage.name, build_entry(stage.cmd, deps, params, outs))


def test_no_lock_entry_reports_deps_modified_params_new_outs_deleted(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("x")
    (tmp_path / "params.yaml").write_text("lr: 0.1\n")
    stage = _stage(deps=["train.py"], params=[ParamsDep("params.yaml", ("lr",))],
                   outs=[Output("model.bin")])
    status = _checker(tmp_path).status(stage)
    assert status == [
        {"changed deps": {"train.py": "modified", "params.yaml": "new"}},
        {"changed outs": {"model.bin": "deleted"}},
    ]


def test_up_to_date_then_each_kind_of_change(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("x")
    (tmp_path / "params.yaml").write_text("lr: 0.1\nepochs: 2\n")
    (tmp_path / "model.bin").write_text("m")
    stage = _stage(deps=["train.py"], params=[ParamsDep("params.yaml", ("lr", "epochs"))],
                   outs=[Output("model.bin", cache=False)])
    _lock(tmp_path, stage, {"params.yaml": {"lr": 0.1, "epochs": 2}})
    assert _checker(tmp_path).status(stage) == []
    (tmp_path / "params.yaml").write_text("lr: 0.2\n")
    changed = _checker(tmp_path).status(_stage(
        deps=["train.py"], params=[ParamsDep("params.yaml", ("lr", "epochs"))],
        outs=[Output("model.bin", cache=False)], cmd="python train.py --v2",
    ))
    assert changed == [
        {"changed deps": {"params.yaml": {"lr": "modified", "epochs": "deleted"}}},
        "changed command",
    ]
    assert format_status({"train": changed}) == (
        "train:\n\tchanged deps:\n\t\tparams.yaml:\n"
        "\t\t\tmodified:           lr\n\t\t\tdeleted:            epochs\n\tchanged command"
    )


def test_cached_output_missing_from_cache_is_not_in_cache(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_text("m")
    stage = _stage(outs=[Output("model.bin")], deps=["model.bin.src"])
    (tmp_path / "model.bin.src").write_text("s")
    _lock(tmp_path, stage, {})
    assert _checker(tmp_path).status(stage) == [{"changed outs": {"model.bin": "not in cache"}}]


def test_callback_and_always_changed_and_frozen(tmp_path: Path) -> None:
    checker = _checker(tmp_path)
    assert checker.status(_stage()) == ["always changed"]
    (tmp_path / "in.txt").write_text("i")
    frozen = _stage(deps=["in.txt"], outs=[Output("out.txt")], frozen=True)
    assert checker.status(frozen) == [{"changed outs": {"out.txt": "deleted"}}]


def test_params_reader_whole_file_and_tuples(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("A = (1, 2)\nB = 3\n")
    reader = ParamsReader(str(tmp_path))
    assert reader.values("p.py", ()) == {"A": (1, 2), "B": 3}
    # a tuple equal to the locked list is unchanged (DVC's rule)
    assert reader.changed_keys("p.py", (), {"A": [1, 2], "B": 3}) == {}
    assert reader.changed_keys("p.py", (), {"A": [1, 2], "C": 1}) == {"B": "new", "C": "deleted"}
