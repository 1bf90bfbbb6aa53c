"""GitRepo against the real git CLI: every answer is checked with a git command."""
from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dvcexp_plugin.git import (
    GitError,
    GitRepo,
    IdentityError,
    NoCommitsError,
    NotAGitRepoError,
    RefConflictError,
    UnknownRevisionError,
)
from dvcexp_plugin.git.identity import parse_git_date
from tests.conftest import GIT_ENV, git

EXP_REF = "refs/exps/ab/cdef/exp-1"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Fixed identity and dates; no user or system git config leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for key in ("GIT_CONFIG_GLOBAL", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    return home


def write(root: Path, name: str, text: str, mode: int | None = None) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: a.txt, run.sh (exec), d/b.txt, link -> a.txt, .gitignore (ign/, *.log)."""
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    write(root, "a.txt", "a\n")
    write(root, "run.sh", "#!/bin/sh\necho hi\n", 0o755)
    write(root, "d/b.txt", "b\n")
    write(root, ".gitignore", "ign/\n*.log\n")
    (root / "link").symlink_to("a.txt")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "first", cwd=root)
    write(root, "a.txt", "a2\n")
    git("commit", "-q", "-am", "second", cwd=root)
    return root


def rev_parse(root: Path, rev: str) -> str:
    return git("rev-parse", "--verify", "--quiet", rev + "^{commit}", cwd=root).strip()


def reference_tree(root: Path, extras: list[str]) -> str:
    """What `git add -u` + `git add -f extras` on a copy of the index would commit."""
    index = root / ".git" / "index"
    scratch = root.parent / "scratch-index"
    scratch.write_bytes(index.read_bytes())
    env = {**os.environ, **GIT_ENV, "GIT_INDEX_FILE": str(scratch)}

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
        ).stdout

    run("add", "-u")
    if extras:
        run("add", "-f", "--", *extras)
    return run("write-tree").strip()


# -- opening ---------------------------------------------------------------------------


def test_find_from_subdirectory(repo: Path) -> None:
    git_repo = GitRepo.find(repo / "d")
    assert git_repo.root == str(repo)
    assert git_repo.git_dir == str(repo / ".git")
    assert GitRepo.find(git_repo) is git_repo


def test_not_a_git_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotAGitRepoError) as info:
        GitRepo.find(plain)
    message = str(info.value)
    assert "\n" not in message and "not inside a git repository" in message
    assert "git init" in message


def test_repo_without_commits(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    with pytest.raises(NoCommitsError) as info:
        GitRepo.find(root)
    assert "no commits yet" in str(info.value) and "git commit" in str(info.value)
    empty = GitRepo.find(root, require_commit=False)
    assert empty.head_branch() == "main"
    with pytest.raises(NoCommitsError):
        empty.head_sha()


def test_bare_repo_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "bare.git"
    git("init", "-q", "--bare", str(root), cwd=tmp_path)
    with pytest.raises(NotAGitRepoError, match="bare"):
        GitRepo.find(root, require_commit=False)


def test_linked_worktree_shares_refs(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "wt"
    git("worktree", "add", "-q", "--detach", str(other), "HEAD~1", cwd=repo)
    linked = GitRepo.find(other)
    assert linked.root == str(other)
    assert linked.head_sha() == rev_parse(repo, "HEAD~1")
    assert linked.head_branch() is None
    sha = rev_parse(repo, "HEAD")
    linked.set_ref(EXP_REF, sha)
    assert git("rev-parse", EXP_REF, cwd=repo).strip() == sha


# -- revisions -------------------------------------------------------------------------


def test_head_and_branch(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    assert git_repo.head_sha() == rev_parse(repo, "HEAD")
    assert git_repo.head_branch() == "main"
    git("checkout", "-q", "-b", "feature/x", cwd=repo)
    assert GitRepo.find(repo).head_branch() == "feature/x"


def test_detached_head(repo: Path) -> None:
    git("checkout", "-q", "--detach", "HEAD~1", cwd=repo)
    git_repo = GitRepo.find(repo)
    assert git_repo.head_branch() is None
    assert git_repo.head_sha() == rev_parse(repo, "HEAD")


def test_resolve_matches_rev_parse(repo: Path) -> None:
    git("tag", "light", "HEAD~1", cwd=repo)
    git("tag", "-a", "-m", "annotated", "v1.0", cwd=repo)
    git("checkout", "-q", "-b", "side", "HEAD~1", cwd=repo)
    write(repo, "side.txt", "s\n")
    git("add", "side.txt", cwd=repo)
    git("commit", "-q", "-m", "side", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    git("merge", "-q", "--no-ff", "-m", "merge", "side", cwd=repo)
    git("pack-refs", "--all", cwd=repo)  # packed refs must resolve too
    git_repo = GitRepo.find(repo)
    head = rev_parse(repo, "HEAD")
    revs = [
        "HEAD", "@", "main", "refs/heads/main", "heads/main", "side", "light", "v1.0",
        "tags/v1.0", head, head[:7], "HEAD~1", "HEAD^", "HEAD^2", "HEAD^2~1", "HEAD~2",
        "main^1^1", "v1.0^{}", "v1.0~1", "HEAD^0",
    ]
    for rev in revs:
        assert git_repo.resolve(rev) == rev_parse(repo, rev), rev


@pytest.mark.parametrize("rev", ["nope", "HEAD~9", "HEAD^3", "abcdef1", "../../etc/passwd", ""])
def test_resolve_unknown(repo: Path, rev: str) -> None:
    with pytest.raises(UnknownRevisionError) as info:
        GitRepo.find(repo).resolve(rev)
    assert "unknown Git revision" in str(info.value)


def test_resolve_rejects_non_commit(repo: Path) -> None:
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo).strip()
    with pytest.raises(UnknownRevisionError, match="not a commit"):
        GitRepo.find(repo).resolve(tree)


# -- identity --------------------------------------------------------------------------


def test_identity_from_env(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Carl Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "carl@example.com")
    git_repo = GitRepo.find(repo)
    assert git_repo.identity() == ("dvcexp tests", "tests@dvcexp.invalid")
    assert git_repo.identity("committer") == ("Carl Committer", "carl@example.com")


def test_identity_from_repo_then_global_config(
    repo: Path, monkeypatch: pytest.MonkeyPatch, isolated_git: Path
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(key)
    (isolated_git / ".gitconfig").write_text(
        "[user]\n\tname = Global Gina\n\temail = gina@example.com\n"
    )
    assert GitRepo.find(repo).identity() == ("Global Gina", "gina@example.com")
    git("config", "user.name", "Local Lou", cwd=repo)
    assert GitRepo.find(repo).identity() == ("Local Lou", "gina@example.com")


def test_identity_missing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(key)
    with pytest.raises(IdentityError) as info:
        GitRepo.find(repo).identity()
    message = str(info.value)
    assert message.startswith("Git username and email must be configured")
    assert "git config --global user.email" in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1767225600 +0000", (1767225600, 0)),
        ("@1767225600 -0130", (1767225600, -5400)),
        ("2026-01-01T00:00:00+00:00", (1767225600, 0)),
        ("2026-01-01 02:00:00 +0200", (1767225600, 7200)),
        ("2026-01-01T00:00:00Z", (1767225600, 0)),
        ("Thu, 01 Jan 2026 01:00:00 +0100", (1767225600, 3600)),
    ],
)
def test_parse_git_date(text: str, expected: tuple[int, int]) -> None:
    assert parse_git_date(text) == expected


def test_parse_git_date_rejects_garbage() -> None:
    with pytest.raises(GitError, match="cannot parse git date"):
        parse_git_date("next tuesday")


# -- commits ---------------------------------------------------------------------------


def test_commit_tree_matches_git(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    head = git_repo.head_sha()
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo).strip()
    sha = git_repo.commit_tree(tree, [head], "dvc: commit experiment abc")
    # same object git makes from the same inputs (GIT_*_DATE fixed by the fixture)
    expected = subprocess.run(
        ["git", "commit-tree", tree, "-p", head],
        cwd=repo, env={**os.environ, **GIT_ENV}, input="dvc: commit experiment abc",
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert sha == expected  # byte-identical object
    raw = git("cat-file", "commit", sha, cwd=repo)
    assert raw.endswith("\n\ndvc: commit experiment abc")  # no final newline, like DVC
    git("fsck", "--no-dangling", cwd=repo)
    info = git_repo.commit_info(sha)
    assert info.parents == (head,) and info.tree == tree
    assert info.author == "dvcexp tests <tests@dvcexp.invalid>"
    assert info.author_time == info.commit_time == 1767225600
    assert info.message == "dvc: commit experiment abc"


def test_commit_tree_explicit_people_and_time(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo).strip()
    sha = git_repo.commit_tree(
        tree, [], "root", author="A <a@x>", committer="C <c@x>", timestamp=1700000000
    )
    fmt = git("log", "-1", "--format=%an|%ae|%at|%cn|%ce|%ct|%P", sha, cwd=repo).strip()
    assert fmt == "A|a@x|1700000000|C|c@x|1700000000|"


def test_commit_tree_missing_object(repo: Path) -> None:
    with pytest.raises(GitError, match="not in"):
        GitRepo.find(repo).commit_tree("1" * 40, [], "x")


# -- refs ------------------------------------------------------------------------------


def test_set_get_iter_delete(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    head, parent = rev_parse(repo, "HEAD"), rev_parse(repo, "HEAD~1")
    assert git_repo.get_ref(EXP_REF) is None
    git_repo.set_ref(EXP_REF, head)
    assert git("rev-parse", EXP_REF, cwd=repo).strip() == head
    with pytest.raises(RefConflictError, match="already exists"):
        git_repo.set_ref(EXP_REF, parent)
    git_repo.set_ref(EXP_REF, parent, expected_old=head)
    with pytest.raises(RefConflictError, match="moved: expected") as info:
        git_repo.set_ref(EXP_REF, head, expected_old=head)
    assert parent[:7] in str(info.value)
    git_repo.set_ref(EXP_REF, head, force=True)
    git_repo.set_ref("refs/exps/ab/cdef/exp-2", parent)
    assert git_repo.iter_refs("refs/exps/") == {
        EXP_REF: head, "refs/exps/ab/cdef/exp-2": parent,
    }
    assert git_repo.iter_refs("refs/exps/ab/cdef/exp-2") == {"refs/exps/ab/cdef/exp-2": parent}
    assert set(git_repo.iter_refs("refs/heads/")) == {"refs/heads/main"}
    with pytest.raises(RefConflictError):
        git_repo.delete_ref(EXP_REF, expected_old=parent)
    assert git_repo.delete_ref(EXP_REF, expected_old=head)
    assert not git_repo.delete_ref(EXP_REF)
    assert git("for-each-ref", "refs/exps", cwd=repo).count("\n") == 1


def test_refs_when_packed(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    head, parent = rev_parse(repo, "HEAD"), rev_parse(repo, "HEAD~1")
    git_repo.set_ref(EXP_REF, head)
    git("pack-refs", "--all", cwd=repo)
    assert git_repo.get_ref(EXP_REF) == head
    assert git_repo.iter_refs("refs/exps/") == {EXP_REF: head}
    with pytest.raises(RefConflictError):
        git_repo.set_ref(EXP_REF, parent)
    git_repo.set_ref(EXP_REF, parent, expected_old=head)
    assert git("rev-parse", EXP_REF, cwd=repo).strip() == parent
    assert git_repo.delete_ref(EXP_REF, expected_old=parent)
    assert git("for-each-ref", "refs/exps", cwd=repo) == ""


def test_ref_argument_checks(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    head = git_repo.head_sha()
    with pytest.raises(GitError, match="invalid ref name"):
        git_repo.set_ref("refs/exps/bad..name", head)
    with pytest.raises(GitError, match="invalid ref name"):
        git_repo.set_ref("exps/no-refs-prefix", head)
    with pytest.raises(GitError, match="not an object"):
        git_repo.set_ref(EXP_REF, "2" * 40)
    with pytest.raises(GitError, match="full 40-digit"):
        git_repo.set_ref(EXP_REF, head[:7])


def test_locked_ref_is_a_conflict(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    lock = repo / ".git" / "refs" / "exps" / "ab" / "cdef" / "exp-1.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    with pytest.raises(RefConflictError, match="another process"):
        git_repo.set_ref(EXP_REF, git_repo.head_sha())


def test_cas_race_threads(repo: Path) -> None:
    """Eight writers swap the same old value at once: exactly one wins."""
    git_repo = GitRepo.find(repo)
    base = git_repo.head_sha()
    git_repo.set_ref(EXP_REF, base)
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo).strip()
    candidates = [git_repo.commit_tree(tree, [base], f"writer {i}") for i in range(8)]
    barrier = threading.Barrier(len(candidates))
    outcome: dict[str, str] = {}

    def writer(sha: str) -> None:
        mine = GitRepo.find(repo)
        barrier.wait()
        try:
            mine.set_ref(EXP_REF, sha, expected_old=base)
            outcome[sha] = "won"
        except RefConflictError:
            outcome[sha] = "lost"

    threads = [threading.Thread(target=writer, args=(sha,)) for sha in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [sha for sha, result in outcome.items() if result == "won"]
    assert len(winners) == 1
    assert git("rev-parse", EXP_REF, cwd=repo).strip() == winners[0]


def _create_in_process(root: str, sha: str, barrier: object, results: object) -> None:
    git_repo = GitRepo.find(root)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        git_repo.set_ref(EXP_REF, sha)
        results.put(("won", sha))  # type: ignore[attr-defined]
    except RefConflictError:
        results.put(("lost", sha))  # type: ignore[attr-defined]


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_create_race_processes(repo: Path) -> None:
    """Two processes create the same experiment ref: one wins, one gets a conflict."""
    context = multiprocessing.get_context("fork")
    git_repo = GitRepo.find(repo)
    shas = [git_repo.head_sha(), rev_parse(repo, "HEAD~1")]
    barrier = context.Barrier(2)
    results = context.Queue()
    procs = [
        context.Process(target=_create_in_process, args=(str(repo), sha, barrier, results))
        for sha in shas
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    outcome = sorted(results.get(timeout=5) for _ in procs)
    assert [result for result, _ in outcome] == ["lost", "won"]
    assert git("rev-parse", EXP_REF, cwd=repo).strip() == outcome[1][1]


# -- reading trees ---------------------------------------------------------------------


def test_read_file_and_list_files(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    assert git_repo.read_file("HEAD", "a.txt") == b"a2\n"
    assert git_repo.read_file("HEAD~1", "a.txt") == b"a\n"
    assert git_repo.read_file("HEAD", "d/b.txt") == b"b\n"
    assert git_repo.read_file("HEAD", "link") == b"a.txt"
    assert git_repo.read_file("HEAD", "d") is None
    assert git_repo.read_file("HEAD", "missing.txt") is None
    assert git_repo.read_file("HEAD", "a.txt/x") is None
    expected = git("ls-tree", "-r", "--name-only", "HEAD", cwd=repo).split()
    assert git_repo.list_files("HEAD") == sorted(expected)
    assert git_repo.list_files("HEAD", "d") == ["d/b.txt"]
    assert git_repo.list_files("HEAD", "d/") == ["d/b.txt"]
    assert git_repo.list_files("HEAD", "a.txt") == ["a.txt"]
    assert git_repo.list_files("HEAD", "nope") == []


# -- work tree: status, ignores, snapshot ----------------------------------------------


def make_changes(root: Path) -> None:
    write(root, "a.txt", "changed\n")  # tracked, modified
    (root / "d" / "b.txt").unlink()  # tracked, deleted
    write(root, "staged.txt", "new\n")
    git("add", "staged.txt", cwd=root)  # staged new
    write(root, "untracked.txt", "u\n")
    write(root, "newdir/u2.txt", "u\n")
    write(root, "ign/data.bin", "ignored\n")
    write(root, "debug.log", "ignored\n")


def test_status_matches_git(repo: Path) -> None:
    make_changes(repo)
    write(repo, "run.sh", "#!/bin/sh\necho changed\n", 0o755)
    git("add", "run.sh", cwd=repo)  # staged modification
    git("rm", "-q", "--cached", "link", cwd=repo)  # staged deletion (link now untracked)
    status = GitRepo.find(repo).status()
    assert status.staged_new == ("staged.txt",)
    assert status.staged_modified == ("run.sh",)
    assert status.staged_deleted == ("link",)
    assert status.modified == ("a.txt",)
    assert status.deleted == ("d/b.txt",)
    porcelain = git("status", "--porcelain", "-uall", cwd=repo).splitlines()
    untracked = sorted(line[3:] for line in porcelain if line.startswith("??"))
    assert list(status.untracked) == untracked == ["link", "newdir/u2.txt", "untracked.txt"]
    assert status.has_tracked_changes and not status.is_clean


def test_status_clean(repo: Path) -> None:
    status = GitRepo.find(repo).status()
    assert status.is_clean and not status.has_tracked_changes


def test_is_ignored_matches_check_ignore(repo: Path, isolated_git: Path) -> None:
    write(repo, "sub/.gitignore", "*.tmp\n!keep.tmp\n/local-only\n")
    write(repo, ".git/info/exclude", "excluded.txt\n")
    write(isolated_git, ".config/git/ignore", "*.swp\n")
    write(isolated_git, "custom-excludes", "*.bak\n")
    paths = [
        "ign", "ign/data.bin", "ign/deep/x", "debug.log", "sub/debug.log", "sub/x.tmp",
        "sub/keep.tmp", "sub/local-only", "local-only", "sub/deeper/local-only", "excluded.txt",
        "sub/excluded.txt", "notes.swp", "a.txt", "sub/ok.txt", "file.bak",
    ]
    for path in paths:
        write(repo, path if path != "ign" else "ign/.keep", "x\n")

    def check() -> None:
        git_repo = GitRepo.find(repo)
        for path in paths:
            result = subprocess.run(
                ["git", "check-ignore", "-q", "--no-index", path], cwd=repo,
                env={**os.environ, **GIT_ENV},
            )
            assert git_repo.is_ignored(path) == (result.returncode == 0), path

    check()
    git("config", "core.excludesFile", str(isolated_git / "custom-excludes"), cwd=repo)
    check()
    assert GitRepo.find(repo).is_ignored(str(repo / "debug.log"))
    with pytest.raises(GitError, match="outside"):
        GitRepo.find(repo).is_ignored(str(repo.parent / "elsewhere"))


def test_snapshot_tree_matches_git_add_u(repo: Path) -> None:
    make_changes(repo)
    git_repo = GitRepo.find(repo)
    index_before = (repo / ".git" / "index").read_bytes()
    head_before = git_repo.head_sha()
    tree = git_repo.snapshot_tree([])
    assert tree == reference_tree(repo, [])
    listing = git("ls-tree", "-r", "--name-only", tree, cwd=repo).split()
    assert "staged.txt" in listing  # staged new file included
    assert "d/b.txt" not in listing  # deleted tracked file dropped
    assert "untracked.txt" not in listing  # untracked left out
    assert git("cat-file", "blob", f"{tree}:a.txt", cwd=repo) == "changed\n"
    # nothing the user sees moved
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git_repo.head_sha() == head_before
    assert git("diff", "--cached", "--name-only", cwd=repo).split() == ["staged.txt"]


def test_snapshot_tree_extra_paths(repo: Path) -> None:
    make_changes(repo)
    write(repo, "tool.sh", "#!/bin/sh\n", 0o755)
    (repo / "newlink").symlink_to("untracked.txt")
    extras = ["untracked.txt", "newdir", "ign", "tool.sh", "newlink"]
    tree = GitRepo.find(repo).snapshot_tree(extras)
    assert tree == reference_tree(repo, extras)
    entries = {
        line.split("\t")[1]: line.split()[0]
        for line in git("ls-tree", "-r", tree, cwd=repo).splitlines()
    }
    assert entries["ign/data.bin"] == "100644"  # ignored dir forced in
    assert entries["newdir/u2.txt"] == "100644"
    assert entries["tool.sh"] == "100755"
    assert entries["newlink"] == "120000"
    assert "debug.log" not in entries  # ignored and not asked for
    assert GitRepo.find(repo).snapshot_tree([str(repo / "untracked.txt")]) == reference_tree(
        repo, ["untracked.txt"]
    )


def test_snapshot_tree_modes(repo: Path) -> None:
    (repo / "run.sh").chmod(0o644)  # exec bit dropped
    (repo / "a.txt").chmod(0o755)  # exec bit added
    (repo / "link").unlink()
    (repo / "link").symlink_to("d/b.txt")  # retargeted symlink
    tree = GitRepo.find(repo).snapshot_tree([])
    assert tree == reference_tree(repo, [])
    modes = {
        line.split("\t")[1]: line.split()[0]
        for line in git("ls-tree", "-r", tree, cwd=repo).splitlines()
    }
    assert modes["run.sh"] == "100644" and modes["a.txt"] == "100755"
    assert git("cat-file", "blob", f"{tree}:link", cwd=repo) == "d/b.txt"


def test_snapshot_tree_racy_same_size_edit(repo: Path) -> None:
    """A same-size edit in the index's own timestamp tick is still seen (racy git)."""
    git("update-index", "--refresh", cwd=repo)
    target = repo / "a.txt"
    stamp = target.stat().st_mtime_ns
    target.write_text("zz\n")  # same size as "a2\n", same inode
    os.utime(target, ns=(stamp, stamp))
    os.utime(repo / ".git" / "index", ns=(stamp, stamp))
    tree = GitRepo.find(repo).snapshot_tree([])
    assert git("cat-file", "blob", f"{tree}:a.txt", cwd=repo) == "zz\n"


def test_snapshot_tree_bad_extra(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    with pytest.raises(GitError, match="does not exist"):
        git_repo.snapshot_tree(["missing.txt"])
    with pytest.raises(GitError, match="outside"):
        git_repo.snapshot_tree(["../elsewhere"])
    with pytest.raises(GitError, match="work-tree path"):
        git_repo.snapshot_tree([".git"])


# -- checkout_files ----------------------------------------------------------------------


def test_checkout_files_for_exp_apply(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    baseline = git_repo.head_sha()
    write(repo, "a.txt", "exp\n", 0o755)
    (repo / "d" / "b.txt").unlink()
    write(repo, "metrics.json", '{"acc": 1}\n')
    exp = git_repo.commit_tree(git_repo.snapshot_tree(["metrics.json"]), [baseline], "exp")
    git("checkout", "-q", "--", ".", cwd=repo)
    (repo / "metrics.json").unlink()
    write(repo, "untracked.txt", "keep me\n")
    index_before = (repo / ".git" / "index").read_bytes()

    changed = git_repo.checkout_files(exp)

    assert changed == ["a.txt", "d/b.txt", "metrics.json"]
    assert (repo / "a.txt").read_text() == "exp\n" and os.access(repo / "a.txt", os.X_OK)
    assert not (repo / "d").exists()  # tracked file absent from the exp is removed
    assert (repo / "metrics.json").read_text() == '{"acc": 1}\n'
    assert (repo / "untracked.txt").read_text() == "keep me\n"
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git_repo.head_sha() == baseline
    assert git_repo.checkout_files(exp) == []  # already there: nothing rewritten


def test_checkout_files_scoped(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    write(repo, "a.txt", "dirty\n")
    (repo / "d" / "b.txt").unlink()
    assert git_repo.checkout_files("HEAD~1", ["d"]) == ["d/b.txt"]
    assert (repo / "d" / "b.txt").read_text() == "b\n"
    assert (repo / "a.txt").read_text() == "dirty\n"
    assert git_repo.checkout_files("HEAD~1", ["a.txt"]) == ["a.txt"]
    assert (repo / "a.txt").read_text() == "a\n"


def test_importing_git_package_is_cheap() -> None:
    code = "import sys, dvcexp_plugin.git, dvcexp_plugin.git.exp_refs; " \
        "print(any(m.startswith('dulwich') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_snapshot_tree_during_merge_conflict(repo: Path) -> None:
    git("checkout", "-q", "-b", "other", "HEAD~1", cwd=repo)
    write(repo, "a.txt", "theirs\n")
    git("commit", "-q", "-am", "other", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    merge = subprocess.run(
        ["git", "merge", "-q", "other"], cwd=repo, env={**os.environ, **GIT_ENV},
        capture_output=True, text=True,
    )
    assert merge.returncode != 0  # conflict in a.txt
    git_repo = GitRepo.find(repo)
    assert git_repo.status().conflicted == ("a.txt",)
    assert git_repo.snapshot_tree([]) == reference_tree(repo, [])


def test_snapshot_tree_keeps_submodule_commit(repo: Path, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    git("init", "-q", "-b", "main", cwd=sub)
    write(sub, "s.txt", "s\n")
    git("add", "s.txt", cwd=sub)
    git("commit", "-q", "-m", "sub", cwd=sub)
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor"],
        cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
    )
    git_repo = GitRepo.find(repo)
    tree = git_repo.snapshot_tree([])
    assert tree == reference_tree(repo, [])
    assert "160000 commit" in git("ls-tree", tree, "vendor", cwd=repo)
    assert "vendor" not in git_repo.list_files(git_repo.commit_tree(tree, [], "x"))


def test_no_shutdown_noise_with_packs(repo: Path) -> None:
    git("gc", "-q", cwd=repo)
    code = (
        "from dvcexp_plugin.git import GitRepo\n"
        f"r = GitRepo.find({str(repo)!r})\n"
        "r.list_files('HEAD'); r.snapshot_tree([]); print(r.head_sha())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""


def test_checkout_files_file_dir_swaps(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    baseline = git_repo.head_sha()
    # the experiment turns directory d/ into a file d, and file a.txt into a directory
    (repo / "d" / "b.txt").unlink()
    (repo / "d").rmdir()
    write(repo, "d", "now a file\n")
    (repo / "a.txt").unlink()
    write(repo, "a.txt/inner", "nested\n")
    exp = git_repo.commit_tree(git_repo.snapshot_tree(["d", "a.txt"]), [baseline], "swap")
    (repo / "d").unlink()  # back to the baseline work tree
    shutil.rmtree(repo / "a.txt")
    git("checkout", "-q", "--", ".", cwd=repo)
    assert (repo / "d" / "b.txt").exists() and (repo / "a.txt").is_file()

    git_repo.checkout_files(exp)

    assert (repo / "d").read_text() == "now a file\n"
    assert (repo / "a.txt" / "inner").read_text() == "nested\n"


def test_checkout_files_never_clobbers_untracked_parent(repo: Path) -> None:
    git_repo = GitRepo.find(repo)
    write(repo, "new/x.txt", "x\n")
    exp = git_repo.commit_tree(git_repo.snapshot_tree(["new"]), [git_repo.head_sha()], "e")
    (repo / "new" / "x.txt").unlink()
    (repo / "new").rmdir()
    write(repo, "new", "my notes\n")  # untracked file where the exp has a directory
    with pytest.raises(GitError, match="untracked file 'new' is in the way"):
        git_repo.checkout_files(exp)
    assert (repo / "new").read_text() == "my notes\n"
