"""Queue workspaces against the real git CLI: commit_workspace, materialize, snapshot_dir.

Every tree is compared with the one git itself builds from the same inputs, and
the repositories are checked with ``git fsck --strict`` afterwards.
"""
from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from dvcexp_plugin.git import GitRepo, RefConflictError, WorkspaceError
from dvcexp_plugin.git.exp_refs import (
    ExpRef,
    InvalidExpRefError,
    is_skipped,
    iter_exp_refs,
    iter_queue_refs,
    parse_queue_ref,
    queue_ref,
)
from tests.conftest import GIT_ENV, git
from tests.unit.test_git_repo import isolated_git, write  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("isolated_git")

#: a ref outside refs/exps that every concurrent writer appends to
CHAIN = "refs/dvcexp-test/chain"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: params.yaml, a.txt, run.sh (exec), d/b.txt, d/deep/c.txt, link -> a.txt,
    dirlink -> d, .gitignore (*.log, ign/), .dvc/.gitignore (/tmp)."""
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    write(root, "params.yaml", "lr: 0.1\n")
    write(root, "a.txt", "a\n")
    write(root, "run.sh", "#!/bin/sh\necho hi\n", 0o755)
    write(root, "d/b.txt", "b\n")
    write(root, "d/deep/c.txt", "c\n")
    write(root, "gone_to_dir.txt", "soon a directory\n")
    write(root, ".gitignore", "*.log\nign/\n")
    write(root, ".dvc/.gitignore", "/tmp\n")
    (root / "link").symlink_to("a.txt")
    (root / "dirlink").symlink_to("d")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "first", cwd=root)
    return root


def fsck(root: Path) -> None:
    result = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"], cwd=root, capture_output=True, text=True,
        env={**os.environ, **GIT_ENV},
    )
    assert result.returncode == 0 and not result.stdout and not result.stderr, result


def git_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, **extra}


def ls_tree(root: Path, tree: str) -> dict[str, tuple[str, str]]:
    """``{path: (mode, sha)}`` of ``git ls-tree -r``."""
    found = {}
    for line in git("ls-tree", "-r", tree, cwd=root).splitlines():
        meta, path = line.split("\t", 1)
        mode, _kind, sha = meta.split()
        found[path] = (mode, sha)
    return found


def scan(top: Path) -> dict[str, tuple[str, bool, bytes]]:
    """``{path: (kind, exec bit, content or link target)}`` of a directory, not following links."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, top).replace(os.sep, "/")
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", False, os.fsencode(os.readlink(full)))
            else:
                found[rel] = ("file", bool(st.st_mode & stat.S_IXUSR), Path(full).read_bytes())
    return found


# -- commit_workspace ------------------------------------------------------------------


def reference_override_tree(root: Path, base: str, files: dict[str, tuple[str, bytes]],
                            deleted: list[str]) -> str:
    """What git's plumbing makes of ``base`` with ``files`` ({path: (mode, data)}) and ``deleted``."""
    env = git_env(GIT_INDEX_FILE=str(root.parent / "ref-index"))

    def run(*args: str, data: bytes | None = None) -> str:
        return subprocess.run(["git", *args], cwd=root, env=env, input=data,
                              capture_output=True, check=True).stdout.decode()

    run("read-tree", base)
    for path in deleted:
        run("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", path)
    for path, (mode, data) in files.items():
        blob = run("hash-object", "-w", "--stdin", data=data).strip()
        run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}")
    return run("write-tree").strip()


def test_commit_workspace_matches_git(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    base = git_repo.head_sha()
    index_before = (repo / ".git" / "index").read_bytes()
    status_before = git("status", "--porcelain", "--ignored", cwd=repo)
    overrides: dict[str, bytes | None] = {
        "params.yaml": b"lr: 0.5\n",
        "run.sh": b"#!/bin/sh\necho changed\n",  # keeps its exec bit
        "new/dir/f.txt": b"new\n",
        "link": b"no longer a link\n",  # a symlink replaced by bytes becomes a file
        "d/deep": None,  # a directory
        "absent.txt": None,  # nothing to delete: no-op
    }
    sha = git_repo.commit_workspace(base, overrides, f"dvc-exp:{base}:{base}:q1", [base])
    info = git_repo.commit_info(sha)
    assert info.parents == (base,) and info.message == f"dvc-exp:{base}:{base}:q1"
    expected = reference_override_tree(repo, base, {
        "params.yaml": ("100644", b"lr: 0.5\n"),
        "run.sh": ("100755", b"#!/bin/sh\necho changed\n"),
        "new/dir/f.txt": ("100644", b"new\n"),
        "link": ("100644", b"no longer a link\n"),
    }, ["d/deep"])
    assert info.tree == expected
    entries = ls_tree(repo, sha)
    assert entries["run.sh"][0] == "100755" and entries["link"][0] == "100644"
    assert "d/deep/c.txt" not in entries and "d/b.txt" in entries
    # the user's work tree, index and HEAD did not move
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git("status", "--porcelain", "--ignored", cwd=repo) == status_before
    assert git_repo.head_sha() == base
    assert (repo / "params.yaml").read_text() == "lr: 0.1\n"
    fsck(repo)


def test_commit_workspace_on_a_snapshot_tree(repo: Path) -> None:
    """The queue stores the workspace (a tree sha, no commit yet) plus overrides."""
    git_repo = GitRepo.find(repo)
    write(repo, "a.txt", "edited, not committed\n")
    tree = git_repo.snapshot_tree()
    sha = git_repo.commit_workspace(tree, {"params.yaml": b"lr: 0.2\n"}, "entry", [])
    assert git("show", f"{sha}:a.txt", cwd=repo) == "edited, not committed\n"
    assert git("show", f"{sha}:params.yaml", cwd=repo) == "lr: 0.2\n"
    assert git_repo.commit_info(sha).parents == ()


@pytest.mark.parametrize("path", ["../x", "/abs", "a//b", "", ".git/config", "d/./b.txt",
                                  "d/../a.txt", "sub/.git"])
def test_commit_workspace_rejects_bad_paths(repo: Path, path: str) -> None:
    git_repo = GitRepo.find(repo)
    with pytest.raises(WorkspaceError, match="repository-relative"):
        git_repo.commit_workspace("HEAD", {path: b"x"}, "m", [])


def test_commit_workspace_file_directory_clashes(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    with pytest.raises(WorkspaceError, match="has a directory there") as info:
        git_repo.commit_workspace("HEAD", {"d": b"x"}, "m", [])
    assert "'d': None" in str(info.value)
    with pytest.raises(WorkspaceError, match="'a.txt' is a file"):
        git_repo.commit_workspace("HEAD", {"a.txt/x": b"x"}, "m", [])
    # deleting first makes room, in either direction
    sha = git_repo.commit_workspace("HEAD", {"a.txt": None, "a.txt/x": b"x", "d": None,
                                             "d/new": b"y"}, "m", [])
    assert set(git("ls-tree", "-r", "--name-only", sha, cwd=repo).split()) >= {"a.txt/x", "d/new"}
    assert "d/b.txt" not in git("ls-tree", "-r", "--name-only", sha, cwd=repo)


# -- materialize -----------------------------------------------------------------------


def test_materialize_matches_git_archive(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    dest = repo / ".dvc" / "tmp" / "exps" / "e1"  # parents created
    git_repo.materialize("HEAD", dest)
    reference = tmp_path / "reference"
    reference.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=repo, capture_output=True,
                             check=True, env=git_env()).stdout
    subprocess.run(["tar", "-x", "-C", str(reference)], input=archive, check=True)
    got = scan(dest)
    assert got == scan(reference)
    assert got["run.sh"][:2] == ("file", True) and got["a.txt"][:2] == ("file", False)
    assert got["link"] == ("link", False, b"a.txt") and got["dirlink"] == ("link", False, b"d")
    assert not (dest / ".git").exists()
    # not a repository of its own: git finds the main repository above it
    assert GitRepo.find(dest).root == str(repo)


def test_materialize_refuses_non_empty_dest(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    dest = tmp_path / "ws"
    write(dest, "leftover.txt", "x")
    with pytest.raises(WorkspaceError, match="not empty") as info:
        git_repo.materialize("HEAD", dest)
    message = str(info.value)
    assert str(dest) in message and "remove it" in message and "\n" not in message
    assert sorted(os.listdir(dest)) == ["leftover.txt"]  # untouched
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(WorkspaceError, match="it is a file"):
        git_repo.materialize("HEAD", a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    git_repo.materialize("HEAD", empty)  # an existing empty directory is fine
    assert (empty / "d" / "deep" / "c.txt").read_text() == "c\n"


def test_materialize_skips_gitlinks_and_accepts_tree_sha(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    head = git_repo.head_sha()
    git("update-index", "--add", "--cacheinfo", f"160000,{head},sub/module", cwd=repo)
    tree = git("write-tree", cwd=repo).strip()
    git_repo.materialize(tree, tmp_path / "ws")
    assert not (tmp_path / "ws" / "sub").exists()
    assert (tmp_path / "ws" / "a.txt").read_text() == "a\n"
    # snapshot_dir keeps the submodule commit it could not check out
    assert ls_tree(repo, git_repo.snapshot_dir(tree, tmp_path / "ws"))["sub/module"] == (
        "160000", head)


def test_materialize_refuses_unsafe_tree(repo: Path, tmp_path: Path) -> None:
    blob = git("rev-parse", "HEAD:a.txt", cwd=repo).strip()
    inner = subprocess.run(["git", "mktree"], cwd=repo, input=f"100644 blob {blob}\tconfig\n",
                           capture_output=True, text=True, check=True).stdout.strip()
    evil = subprocess.run(["git", "mktree"], cwd=repo, input=f"040000 tree {inner}\t.git\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    with pytest.raises(WorkspaceError, match="unsafe path '.git/config'"):
        GitRepo.find(repo).materialize(evil, tmp_path / "ws")
    assert not (tmp_path / "ws" / ".git").exists()


# -- snapshot_dir ----------------------------------------------------------------------


def reference_snapshot(main: Path, base: str, workdir: Path, dirs: list[str],
                       files: list[str]) -> str:
    """git itself on ``workdir`` with a scratch index: read-tree, add -u, add dirs, add -f files."""
    env = git_env(GIT_DIR=str(main / ".git"), GIT_WORK_TREE=str(workdir),
                  GIT_INDEX_FILE=str(main.parent / "snap-index"))

    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=workdir, env=env, capture_output=True,
                              text=True, check=True).stdout

    run("read-tree", base)
    run("add", "-u")
    if dirs:
        run("add", "--", *dirs)
    if files:
        run("add", "-f", "--", *files)
    return run("write-tree").strip()


def test_snapshot_dir_unchanged_is_base_tree(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    git_repo.materialize("HEAD", tmp_path / "ws")
    write(tmp_path / "ws", "untracked.txt", "left out\n")
    assert git_repo.snapshot_dir("HEAD", tmp_path / "ws") == git_repo.commit_info("HEAD").tree


def test_snapshot_dir_matches_git_add(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    ws = tmp_path / "ws"
    git_repo.materialize("HEAD", ws)
    index_before = (repo / ".git" / "index").read_bytes()
    write(repo, ".git/info/exclude", "excluded.txt\n")
    # tracked files: modified, exec bit dropped/added, deleted, retargeted, became a dir
    write(ws, "a.txt", "a2\n")
    (ws / "run.sh").chmod(0o644)
    (ws / "d" / "b.txt").chmod(0o755)
    (ws / "d" / "deep" / "c.txt").unlink()
    (ws / "link").unlink()
    (ws / "link").symlink_to("d/b.txt")
    (ws / "gone_to_dir.txt").unlink()
    write(ws, "gone_to_dir.txt/inner.txt", "untracked, not listed\n")
    # untracked and not listed: left out, as DVC leaves them out
    write(ws, "untracked.txt", "u\n")
    write(ws, "debug.log", "ignored\n")
    # listed: a new file, a forced ignored file, and a directory with ignore rules inside
    write(ws, "new.txt", "n\n")
    write(ws, "forced.log", "named, so in even though *.log is ignored\n")
    write(ws, "results/m.json", "{}\n")
    write(ws, "results/sub/n.json", "[]\n")
    write(ws, "results/.gitignore", "/model.bin\n!keep.log\n")
    write(ws, "results/model.bin", "cached out: ignored by the nested .gitignore\n")
    write(ws, "results/x.log", "ignored by the root .gitignore\n")
    write(ws, "results/keep.log", "re-included by the nested .gitignore\n")
    write(ws, "results/ign/y.txt", "in an ignored directory\n")
    write(ws, "results/excluded.txt", "ignored by the main repo's info/exclude\n")
    write(ws, "results/tool.sh", "#!/bin/sh\n", 0o755)
    (ws / "results" / "ln").symlink_to("m.json")
    tree = git_repo.snapshot_dir("HEAD", ws, ["new.txt", "forced.log", "results"])
    assert tree == reference_snapshot(repo, "HEAD", ws, ["new.txt", "results"], ["forced.log"])
    entries = ls_tree(repo, tree)
    assert entries["run.sh"][0] == "100644" and entries["d/b.txt"][0] == "100755"
    assert git("cat-file", "blob", f"{tree}:link", cwd=repo) == "d/b.txt"
    assert entries["results/tool.sh"][0] == "100755" and entries["results/ln"][0] == "120000"
    assert {p for p in entries if p.startswith("results/")} == {
        "results/.gitignore", "results/m.json", "results/sub/n.json", "results/keep.log",
        "results/tool.sh", "results/ln",
    }
    for left_out in ("d/deep/c.txt", "gone_to_dir.txt", "gone_to_dir.txt/inner.txt",
                     "untracked.txt", "debug.log"):
        assert left_out not in entries
    assert "forced.log" in entries and "new.txt" in entries
    # absolute paths inside the workspace work too
    assert git_repo.snapshot_dir("HEAD", ws, [str(ws / "new.txt"), str(ws / "forced.log"),
                                               "results/"]) == tree
    assert (repo / ".git" / "index").read_bytes() == index_before
    sha = git_repo.commit_tree(tree, [git_repo.head_sha()], "dvc: commit experiment x")
    git_repo.set_ref(ExpRef(git_repo.head_sha(), "x").ref, sha)
    fsck(repo)


def test_snapshot_dir_errors(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    ws = tmp_path / "ws"
    with pytest.raises(WorkspaceError, match="does not exist; materialize"):
        git_repo.snapshot_dir("HEAD", ws)
    git_repo.materialize("HEAD", ws)
    with pytest.raises(WorkspaceError, match="'nope.txt' does not exist in workspace"):
        git_repo.snapshot_dir("HEAD", ws, ["nope.txt"])
    for bad in ("../outside", str(tmp_path), ".", ".git/x", "sub/.git"):
        with pytest.raises(WorkspaceError, match="name a path inside"):
            git_repo.snapshot_dir("HEAD", ws, [bad])


def test_tree_object_already_being_written(repo: Path, tmp_path: Path) -> None:
    """Another process holds an object's lock file: we write our copy anyway, as git does."""
    git_repo = GitRepo.find(repo)
    git_repo.materialize("HEAD", tmp_path / "ws")
    write(tmp_path / "ws", "a.txt", "fresh content\n")
    blob = subprocess.run(["git", "hash-object", "--stdin"], input="fresh content\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    lock = repo / ".git" / "objects" / blob[:2] / (blob[2:] + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    tree = git_repo.snapshot_dir("HEAD", tmp_path / "ws")
    assert git("cat-file", "blob", f"{tree}:a.txt", cwd=repo) == "fresh content\n"
    assert git("cat-file", "-t", blob, cwd=repo).strip() == "blob"
    lock.unlink()
    assert not list((repo / ".git" / "objects").glob("*/tmp_obj_*"))


def test_2000_file_round_trip(repo: Path, tmp_path: Path) -> None:
    git_repo = GitRepo.find(repo)
    for i in range(2000):
        write(repo, f"many/{i % 40}/f{i}.txt", f"file {i}\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "many", cwd=repo)
    git_repo.materialize("HEAD", tmp_path / "ws")
    assert len(scan(tmp_path / "ws")) == len(ls_tree(repo, "HEAD"))
    write(tmp_path / "ws", "many/7/f7.txt", "changed\n")
    tree = git_repo.snapshot_dir("HEAD", tmp_path / "ws")
    assert tree == reference_snapshot(repo, "HEAD", tmp_path / "ws", [], [])


# -- concurrency -----------------------------------------------------------------------


def _finish_experiments(root: str, base: str, index: int, rounds: int, barrier: object,
                        results: object) -> None:
    """One process per finishing experiment: snapshot, commit, set refs, all at once."""
    try:
        git_repo = GitRepo.find(root)
        workspace = Path(root, ".dvc", "tmp", "exps", f"w{index}")
        git_repo.materialize(base, workspace)
        made: dict[str, str] = {}
        for round_ in range(rounds):
            write(workspace, "params.yaml", f"lr: {round_}\n")  # the same in every process
            write(workspace, "out/shared.txt", f"round {round_}\n")
            write(workspace, f"out/p{index}.txt", f"{index}-{round_}\n")  # this process's own
            barrier.wait(20)  # type: ignore[attr-defined]
            # identical blobs, trees and commits written by all processes at the same time
            shared_tree = git_repo.snapshot_dir(base, workspace, ["out/shared.txt"])
            shared = git_repo.commit_tree(shared_tree, [base], f"shared {round_}")
            git_repo.set_ref(f"refs/dvcexp-test/shared-{round_}-{index}", shared,
                             message="shared")
            tree = git_repo.snapshot_dir(base, workspace, ["out"])
            sha = git_repo.commit_tree(tree, [base], f"dvc: commit experiment p{index}-{round_}")
            entry = queue_ref(f"p{index}r{round_}")
            git_repo.set_ref(entry, sha, message="dvcexp: queue entry")
            ref = ExpRef(base, f"p{index}-{round_}").ref
            git_repo.set_ref(ref, sha, message="dvcexp: experiment")
            made[ref] = sha
            while True:  # compare-and-swap append to one ref every process writes
                old = git_repo.get_ref(CHAIN)
                assert old is not None
                link = git_repo.commit_tree(tree, [old], f"p{index}-{round_}")
                try:
                    git_repo.set_ref(CHAIN, link, expected_old=old, message="chain")
                    break
                except RefConflictError:
                    continue
            git_repo.delete_ref(entry, expected_old=sha)  # may remove the directory: races
        results.put(("ok", index, made))  # type: ignore[attr-defined]
    except BaseException:
        results.put(("error", index, traceback.format_exc()))  # type: ignore[attr-defined]


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_concurrent_experiments_finish(repo: Path) -> None:
    """8 processes x 5 experiments each: every ref right, nothing lost, fsck clean."""
    procs_n, rounds = 8, 5
    git_repo = GitRepo.find(repo)
    base = git_repo.head_sha()
    git_repo.set_ref(CHAIN, base)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(procs_n)
    results = context.Queue()
    procs = [
        context.Process(target=_finish_experiments,
                        args=(str(repo), base, i, rounds, barrier, results))
        for i in range(procs_n)
    ]
    for proc in procs:
        proc.start()
    outcome = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    errors = [text for status, _i, text in outcome if status == "error"]
    assert not errors, errors[0]
    made = {ref: sha for _s, _i, refs in outcome for ref, sha in refs.items()}
    assert len(made) == procs_n * rounds
    assert {e: s for e, s in iter_exp_refs(repo).items()} == {
        ExpRef.from_ref(ref): sha for ref, sha in made.items()
    }
    for ref, sha in made.items():
        name = ExpRef.from_ref(ref).name
        index, round_ = name[1:].split("-")
        assert git("rev-parse", ref, cwd=repo).strip() == sha
        assert git("rev-parse", f"{ref}^", cwd=repo).strip() == base
        assert git("show", f"{ref}:params.yaml", cwd=repo) == f"lr: {round_}\n"
        assert git("show", f"{ref}:out/p{index}.txt", cwd=repo) == f"{index}-{round_}\n"
        assert git("ls-tree", "--name-only", f"{ref}:out", cwd=repo).split() == [
            f"p{index}.txt", "shared.txt"]
        assert len(git("reflog", "show", ref, cwd=repo).splitlines()) == 1
    chain = git("log", "--format=%s", f"{base}..{CHAIN}", cwd=repo).split()
    assert sorted(chain) == sorted(ExpRef.from_ref(ref).name for ref in made)
    shared = git_repo.iter_refs("refs/dvcexp-test/shared-")
    assert len(shared) == procs_n * rounds
    assert all(sha == shared[f"refs/dvcexp-test/shared-{ref.split('-')[2]}-0"]
               for ref, sha in shared.items())  # same inputs, same commit in every process
    assert iter_queue_refs(repo) == {}
    git_dir = repo / ".git"
    assert not list(git_dir.rglob("*.lock")) and not list(git_dir.rglob("tmp_obj_*"))
    fsck(repo)


def _churn_refs(root: str, index: int, count: int, barrier: object, results: object) -> None:
    try:
        git_repo = GitRepo.find(root)
        head = git_repo.head_sha()
        for i in range(count):
            barrier.wait(20)  # type: ignore[attr-defined]
            # a new reflog directory created by all processes at once
            git_repo.set_ref(f"refs/exps/r{i}/x/p{index}", head, message="m")
            entry = queue_ref(f"e{i}-{index}")
            git_repo.set_ref(entry, head, message="q")
            git_repo.delete_ref(entry, expected_old=head)  # empties, then removes the dir
        results.put("ok")  # type: ignore[attr-defined]
    except BaseException:
        results.put(traceback.format_exc())  # type: ignore[attr-defined]


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_different_refs_never_fail_each_other(repo: Path) -> None:
    """dulwich alone fails ~1% of these (reflog mkdir race, ref dir removed by a delete)."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(8)
    results = context.Queue()
    procs = [context.Process(target=_churn_refs, args=(str(repo), i, 60, barrier, results))
             for i in range(8)]
    for proc in procs:
        proc.start()
    outcome = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert outcome == ["ok"] * 8, next(o for o in outcome if o != "ok")
    assert len(GitRepo.find(repo).iter_refs("refs/exps/r")) == 8 * 60
    assert iter_queue_refs(repo) == {}
    fsck(repo)


# -- queue refs ------------------------------------------------------------------------


def test_queue_ref_names(repo: Path) -> None:
    entry = "2026010100000012ab34cd"
    ref = queue_ref(entry)
    assert ref == f"refs/exps/celery/dvcexp/{entry}"
    assert parse_queue_ref(ref) == entry and parse_queue_ref("refs/exps/celery/stash") is None
    assert is_skipped(ref) and ExpRef.parse(ref) is None
    for bad in ("", "a/b", "..", "a..b", "x.lock", "-x", "a b", "a:b", "é"):
        with pytest.raises(InvalidExpRefError, match="not a queue entry id"):
            queue_ref(bad)
    git_repo = GitRepo.find(repo)
    head = git_repo.head_sha()
    git_repo.set_ref(ref, head)
    git_repo.set_ref(queue_ref("v1.2"), head)
    assert iter_queue_refs(repo) == {entry: head, "v1.2": head}
    assert iter_exp_refs(repo) == {}  # queue entries are not experiments
    assert git("check-ref-format", ref, cwd=repo) == ""


DVC = os.environ.get("DVCEXP_DVC", "")


@pytest.mark.interop
@pytest.mark.skipif(not (DVC and os.access(DVC, os.X_OK)),
                    reason="set DVCEXP_DVC to a dvc executable to compare with DVC")
def test_real_dvc_ignores_queue_refs(tmp_path: Path) -> None:
    """``dvc exp show/list`` and ``dvc queue status`` print the same with our queue refs."""
    root = tmp_path / "dvcrepo"
    root.mkdir()
    env = git_env(DVC_NO_ANALYTICS="1")

    def dvc(*args: str) -> str:
        result = subprocess.run([DVC, *args], cwd=root, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    git("init", "-q", "-b", "main", cwd=root)
    dvc("init", "-q")
    write(root, "params.yaml", "lr: 0.1\n")
    write(root, "dvc.yaml", "stages:\n  train:\n    cmd: cp params.yaml metrics.yaml\n"
          "    params: [lr]\n    metrics:\n    - metrics.yaml:\n        cache: false\n")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "init", cwd=root)
    dvc("exp", "run", "-n", "first", "-S", "lr=0.2")
    dvc("exp", "run", "--queue", "-n", "queued1", "-S", "lr=0.3")
    commands = [("exp", "show", "--json"), ("exp", "show", "-A", "--csv"), ("exp", "list"),
                ("exp", "list", "-A"), ("queue", "status")]
    before = [dvc(*command) for command in commands]
    git_repo = GitRepo.find(root)
    base = git_repo.head_sha()
    for i in range(2):
        sha = git_repo.commit_workspace(git_repo.snapshot_tree(), {"params.yaml": b"lr: 9\n"},
                                        f"dvc-exp:{base}:{base}:q{i}", [base])
        git_repo.set_ref(queue_ref(f"20260101000000beef{i}"), sha, message="dvcexp: queue")
    git_repo.set_ref(queue_ref("ab"), base)  # the worst case for a ref parser
    after = [dvc(*command) for command in commands]
    assert after == before
    assert len(iter_queue_refs(root)) == 3  # and DVC deleted none of them
