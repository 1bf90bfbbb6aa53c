"""``exp apply``, ``branch``, ``remove``, ``rename``, ``save`` and ``list`` on real experiments.

The experiments are made once per module with ``dvcexp exp run`` on a copy of
``workflow_examples/ml-basic`` (exp-a: as committed, exp-b: ``train.lr=0.2``,
exp-c: ``train.epochs=3`` on top of exp-b's workspace); every test works on its
own copy. Expected texts are DVC 3.67.1's, as seen on the same project.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT, git, run_cli


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", path)
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline", cwd=path)
    for args in (("-n", "exp-a"), ("-n", "exp-b", "-S", "train.lr=0.2"),
                 ("-n", "exp-c", "-S", "train.epochs=3")):
        made = run_cli("exp", "run", *args, cwd=path)
        assert made.returncode == 0, made.stderr
    return path


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ml"
    shutil.copytree(template, path, symlinks=True)
    return path


def refs(repo: Path, prefix: str = "refs/") -> dict[str, str]:
    out = git("for-each-ref", "--format=%(refname) %(objectname)", prefix, cwd=repo)
    return dict(line.split() for line in out.splitlines())


def exp_sha(repo: Path, name: str) -> str:
    return git("rev-parse", f"refs/exps/{head(repo)[:2]}/{head(repo)[2:]}/{name}", cwd=repo).strip()


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo).strip()


def exp_names(repo: Path) -> list[str]:
    return sorted(ref.rsplit("/", 1)[1] for ref in refs(repo, "refs/exps/")
                  if len(ref.split("/")) == 5 and ref.split("/")[2] not in ("exec", "apply"))


def lock_md5(text: str, path: str) -> str:
    lines = text.splitlines()
    index = lines.index(f"    - path: {path}")
    return next(line.split()[-1] for line in lines[index:] if "md5:" in line)


# -- apply --------------------------------------------------------------------
def test_apply_by_name_restores_files_cached_outputs_and_refs(repo: Path) -> None:
    before = head(repo)
    result = run_cli("exp", "apply", "exp-b", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("Changes for experiment 'exp-b' have been applied to your current "
                             "workspace.\n")
    exp_b = exp_sha(repo, "exp-b")
    for path in ("params.yaml", "dvc.lock", "metrics.json"):
        assert (repo / path).read_text() == git("show", f"{exp_b}:{path}", cwd=repo)
    model = (repo / "model" / "model.json").read_bytes()
    lock = (repo / "dvc.lock").read_text()
    assert hashlib.md5(model).hexdigest() == lock_md5(lock, "model/model.json")
    assert head(repo) == before and git("symbolic-ref", "HEAD", cwd=repo).strip() == "refs/heads/main"
    found = refs(repo, "refs/exps/")
    assert found["refs/exps/apply/ORIG_HEAD"] == before
    assert found["refs/exps/exec/EXEC_APPLY"] == exp_b
    assert "refs/exps/apply/stash" in found  # the workspace had changes (exp-c's results)
    status = run_cli("status", cwd=repo)
    assert status.stdout.strip() == "Data and pipelines are up to date."


def test_apply_by_sha_and_back_to_an_unchanged_experiment(repo: Path) -> None:
    # DVC's test_apply_unchanged_head: exp-a equals HEAD's params, still restored
    short = exp_sha(repo, "exp-b")[:7]
    assert run_cli("exp", "apply", short, cwd=repo).returncode == 0
    assert "lr: 0.2" in (repo / "params.yaml").read_text()
    result = run_cli("exp", "apply", "exp-a", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "params.yaml").read_text() == git("show", "HEAD:params.yaml", cwd=repo)
    assert git("status", "--porcelain", "--untracked-files=no", cwd=repo) == ""


def test_apply_unknown_experiment_fails(repo: Path) -> None:
    result = run_cli("exp", "apply", "nosuch", cwd=repo)
    assert result.returncode == 255
    assert result.stderr.startswith(
        "ERROR: 'nosuch' does not appear to be an experiment commit.: unknown Git revision "
        "'nosuch'"
    )
    assert "refs/exps/exec/EXEC_APPLY" not in refs(repo)


def test_apply_keeps_untracked_files_and_overwrites_tracked_changes(repo: Path) -> None:
    # DVC's test_apply_untracked
    (repo / "notes.txt").write_text("mine\n")
    (repo / "src" / "train.py").write_text("# my edit\n")
    git("add", "src/train.py", cwd=repo)  # staged: becomes exp-b's file, unstaged
    (repo / "params.yaml").write_text("prepare:\n  split: 0.5\n")
    result = run_cli("exp", "apply", "exp-b", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "notes.txt").read_text() == "mine\n"
    assert (repo / "src" / "train.py").read_text() == git("show", "HEAD:src/train.py", cwd=repo)
    assert "lr: 0.2" in (repo / "params.yaml").read_text()
    assert git("diff", "--cached", "--name-only", cwd=repo) == ""  # index back at HEAD
    # the old workspace is a git stash: DVC's own revert recipe works
    git("reset", "-q", "--hard", cwd=repo)
    git("clean", "-qfd", cwd=repo)  # the stash brings the untracked files back too
    git("stash", "apply", "-q", "--index", "refs/exps/apply/stash", cwd=repo)
    assert (repo / "notes.txt").read_text() == "mine\n"
    assert (repo / "src" / "train.py").read_text() == "# my edit\n"
    assert (repo / "params.yaml").read_text() == "prepare:\n  split: 0.5\n"
    assert git("diff", "--cached", "--name-only", cwd=repo).split() == ["src/train.py"]


def test_apply_on_a_clean_workspace_leaves_no_stash(repo: Path) -> None:
    assert run_cli("exp", "apply", "exp-b", cwd=repo).returncode == 0
    assert "refs/exps/apply/stash" in refs(repo)
    git("add", "-A", cwd=repo)  # commit everything: a clean workspace
    git("commit", "-q", "-m", "results", cwd=repo)
    assert git("status", "--porcelain", cwd=repo) == ""
    result = run_cli("exp", "apply", "exp-a", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "refs/exps/apply/stash" not in refs(repo)
    assert refs(repo)["refs/exps/exec/EXEC_APPLY"] == exp_sha_at(repo, git(
        "rev-parse", "HEAD~1", cwd=repo).strip(), "exp-a")


def test_apply_with_an_object_missing_from_the_cache_fails(repo: Path) -> None:
    exp_b = exp_sha(repo, "exp-b")
    md5 = lock_md5(git("show", f"{exp_b}:dvc.lock", cwd=repo), "model/model.json")
    obj = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    obj.chmod(0o644)
    obj.unlink()
    result = run_cli("exp", "apply", "exp-b", cwd=repo)
    assert result.returncode == 255
    assert result.stderr.startswith(
        "ERROR: Checkout failed for following targets: model/model.json. Is your cache up to date?"
    )
    assert "lr: 0.2" in (repo / "params.yaml").read_text()  # git files are applied, as DVC
    assert not (repo / "model" / "model.json").exists()
    assert "refs/exps/exec/EXEC_APPLY" not in refs(repo)


# -- branch -------------------------------------------------------------------
def test_branch_from_experiment(repo: Path) -> None:
    result = run_cli("exp", "branch", "exp-b", "mybranch", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("Git branch 'mybranch' has been created from experiment 'exp-b'.\n"
                             "To switch to the new branch run:\n\n\tgit checkout mybranch\n")
    assert refs(repo)["refs/heads/mybranch"] == exp_sha(repo, "exp-b")
    assert git("log", "--format=%P", "-1", "mybranch", cwd=repo).strip() == head(repo)
    again = run_cli("exp", "branch", "exp-b", "mybranch", cwd=repo)
    assert again.returncode == 255
    assert again.stderr == "ERROR: Git branch 'mybranch' already exists.\n"


def test_branch_default_name_and_by_sha(repo: Path) -> None:
    assert run_cli("exp", "branch", "exp-c", cwd=repo).returncode == 0
    assert refs(repo)["refs/heads/exp-c-branch"] == exp_sha(repo, "exp-c")
    by_sha = run_cli("exp", "branch", exp_sha(repo, "exp-a")[:7], "y", cwd=repo)
    assert "created from experiment 'exp-a'" in by_sha.stdout


def test_branch_refuses_unknown_and_ambiguous_names(repo: Path) -> None:
    unknown = run_cli("exp", "branch", "nosuch", cwd=repo)
    assert unknown.returncode == 255 and unknown.stderr.startswith("ERROR: nosuch")
    # the same name under two other baselines, HEAD on neither
    baseline = head(repo)
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    second = head(repo)
    git("update-ref", f"refs/exps/{second[:2]}/{second[2:]}/exp-a", exp_sha_at(repo, baseline, "exp-b"),
        cwd=repo)
    git("commit", "-q", "--allow-empty", "-m", "third", cwd=repo)
    ambiguous = run_cli("exp", "branch", "exp-a", cwd=repo)
    assert ambiguous.returncode == 255
    assert "ambiguous Git revision 'exp-a'" in ambiguous.stderr
    assert "refs/heads/exp-a-branch" not in refs(repo)


def exp_sha_at(repo: Path, baseline: str, name: str) -> str:
    return git("rev-parse", f"refs/exps/{baseline[:2]}/{baseline[2:]}/{name}", cwd=repo).strip()


# -- remove -------------------------------------------------------------------
def test_remove_by_name_then_again(repo: Path) -> None:
    result = run_cli("exp", "remove", "exp-c", cwd=repo)
    assert (result.returncode, result.stdout) == (0, "Removed experiments: 'exp-c'\n")
    assert exp_names(repo) == ["exp-a", "exp-b"]
    again = run_cli("exp", "remove", "exp-c", cwd=repo)
    assert again.returncode == 255
    assert again.stderr.startswith("ERROR: 'exp-c' is not a valid experiment name")


def test_remove_with_an_unknown_name_removes_nothing(repo: Path) -> None:
    result = run_cli("exp", "rm", "exp-a", "nosuch1", "nosuch2", cwd=repo)
    assert result.returncode == 255
    assert result.stderr.startswith("ERROR: 'nosuch1; nosuch2' are not valid experiment names")
    assert exp_names(repo) == ["exp-a", "exp-b", "exp-c"]


def test_remove_by_full_ref_and_several_names(repo: Path) -> None:
    full = f"refs/exps/{head(repo)[:2]}/{head(repo)[2:]}/exp-a"
    result = run_cli("exp", "remove", full, cwd=repo)
    assert result.stdout == f"Removed experiments: '{full}'\n"
    result = run_cli("exp", "remove", "exp-b", "exp-c", cwd=repo)
    assert result.stdout == "Removed experiments: 'exp-b' and 'exp-c'\n"
    assert exp_names(repo) == []


def test_remove_all_and_applied_experiment_refs(repo: Path) -> None:
    assert run_cli("exp", "apply", "exp-b", cwd=repo).returncode == 0
    result = run_cli("exp", "remove", "--all-commits", cwd=repo)
    assert result.stdout == "Removed experiments: 'exp-a', 'exp-b' and 'exp-c'\n"
    found = refs(repo, "refs/exps/")
    assert "refs/exps/exec/EXEC_APPLY" not in found  # as DVC: it named a removed experiment
    assert "refs/exps/apply/ORIG_HEAD" in found
    assert run_cli("exp", "remove", "-A", cwd=repo).stdout == "No experiments to remove.\n"


def test_remove_by_rev_num_and_keep(repo: Path) -> None:
    first = head(repo)
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    second = head(repo)
    git("update-ref", f"refs/exps/{second[:2]}/{second[2:]}/exp-n", exp_sha_at(repo, first, "exp-a"),
        cwd=repo)
    keep = run_cli("exp", "remove", "--rev", "HEAD~1", "--keep", cwd=repo)
    assert keep.stdout == "Removed experiments: 'exp-n'\n"
    assert exp_names(repo) == ["exp-a", "exp-b", "exp-c"]
    assert run_cli("exp", "remove", "--rev", "HEAD", cwd=repo).stdout == \
        "No experiments to remove.\n"
    both = run_cli("exp", "remove", "--rev", "main", "-n", "2", cwd=repo)
    assert both.stdout == "Removed experiments: 'exp-a', 'exp-b' and 'exp-c'\n"


def test_remove_keep_by_name(repo: Path) -> None:
    result = run_cli("exp", "remove", "exp-a", "--keep", cwd=repo)
    assert result.stdout == "Removed experiments: 'exp-b' and 'exp-c'\n"
    assert exp_names(repo) == ["exp-a"]
    unknown = run_cli("exp", "remove", "nosuch", "--keep", cwd=repo)
    assert unknown.returncode == 255 and "'nosuch' is not a valid experiment name" in unknown.stderr


@pytest.mark.parametrize("args", [(), ("exp-a", "--rev", "main"), ("--keep",)])
def test_remove_needs_exactly_one_selection(repo: Path, args: tuple[str, ...]) -> None:
    result = run_cli("exp", "remove", *args, cwd=repo)
    assert result.returncode == 255
    assert result.stderr.startswith(
        "ERROR: Either provide an `experiment` argument, or use the `--rev` or `--all-commits`"
    )
    assert exp_names(repo) == ["exp-a", "exp-b", "exp-c"]


def test_remove_from_a_git_remote_is_not_supported(repo: Path) -> None:
    result = run_cli("exp", "remove", "-g", "origin", "exp-a", cwd=repo)
    assert result.returncode == 255 and "not supported" in result.stderr


# -- rename -------------------------------------------------------------------
def test_rename_moves_the_ref(repo: Path) -> None:
    sha = exp_sha(repo, "exp-a")
    result = run_cli("exp", "rename", "exp-a", "exp-z", cwd=repo)
    assert (result.returncode, result.stdout) == (0, "Renamed experiments: 'exp-a'\n")
    assert exp_names(repo) == ["exp-b", "exp-c", "exp-z"]
    assert exp_sha(repo, "exp-z") == sha
    same = run_cli("exp", "rename", "exp-z", "exp-z", cwd=repo)
    assert (same.returncode, same.stdout) == (0, "No experiments to rename.\n")


def test_rename_onto_an_existing_name_needs_force(repo: Path) -> None:
    sha = exp_sha(repo, "exp-a")
    clash = run_cli("exp", "rename", "exp-a", "exp-b", cwd=repo)
    assert clash.returncode == 255
    assert clash.stderr.startswith(
        "ERROR: Experiment conflicts with existing experiment 'exp-b'. To overwrite the existing "
        "experiment run:"
    )
    forced = run_cli("exp", "rename", "exp-a", "exp-b", "-f", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert exp_names(repo) == ["exp-b", "exp-c"] and exp_sha(repo, "exp-b") == sha


@pytest.mark.parametrize("name", ["a*", "x/y"])
def test_rename_rejects_invalid_names(repo: Path, name: str) -> None:
    result = run_cli("exp", "rename", "exp-a", name, cwd=repo)
    assert result.returncode == 255
    assert result.stderr == (f"ERROR: Invalid exp name {name}, the exp name must follow rules in "
                             "https://git-scm.com/docs/git-check-ref-format\n")
    assert exp_names(repo) == ["exp-a", "exp-b", "exp-c"]


def test_rename_errors(repo: Path) -> None:
    unknown = run_cli("exp", "rename", "nosuch", "z", cwd=repo)
    assert unknown.returncode == 255
    assert unknown.stderr.startswith("ERROR: 'nosuch' is not a valid experiment name")
    missing = run_cli("exp", "rename", "exp-a", cwd=repo)
    assert missing.stderr == ("ERROR: An experiment to rename and a new experiment name are "
                              "required.\n")


# -- save ---------------------------------------------------------------------
def test_save_commits_the_workspace_without_running(repo: Path) -> None:
    (repo / "notes.txt").write_text("untracked\n")
    result = run_cli("exp", "save", "-n", "sv1", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Experiment has been saved as: sv1\n"
    assert "Running stage" not in result.stdout
    assert result.stderr == (
        "WARNING: The following untracked files were present in the workspace before saving "
        "but will not be included in the experiment commit:\n"
        "\tdata/.gitignore, metrics.json, model/.gitignore, notes.txt\n"
    )
    sha = exp_sha(repo, "sv1")
    assert git("log", "--format=%P", "-1", sha, cwd=repo).strip() == head(repo)
    files = git("ls-tree", "-r", "--name-only", sha, cwd=repo).split()
    assert "notes.txt" not in files and "metrics.json" not in files
    assert git("show", f"{sha}:params.yaml", cwd=repo) == (repo / "params.yaml").read_text()
    lock = json.loads(json.dumps(_yaml(repo / "dvc.lock")["stages"]))
    digest = hashlib.sha256(json.dumps(lock, sort_keys=True).encode()).hexdigest()
    assert git("log", "--format=%B", "-1", sha, cwd=repo).strip() == \
        f"dvc: commit experiment {digest}"
    assert head(repo) == git("rev-parse", "main", cwd=repo).strip()


def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def test_save_include_untracked_message_and_json(repo: Path) -> None:
    (repo / "notes.txt").write_text("untracked\n")
    result = run_cli("exp", "save", "-n", "sv2", "-I", "notes.txt", "-m", "my msg", "--json",
                     cwd=repo)
    assert result.returncode == 0, result.stderr
    sha = json.loads(result.stdout)["ref"]
    assert sha == exp_sha(repo, "sv2")
    assert git("show", f"{sha}:notes.txt", cwd=repo) == "untracked\n"
    assert git("log", "--format=%B", "-1", sha, cwd=repo).strip() == "my msg"
    assert "notes.txt" not in result.stderr


def test_save_updates_the_lock_of_changed_stages(repo: Path) -> None:
    with (repo / "src" / "train.py").open("a") as fobj:
        fobj.write("# tweak\n")
    result = run_cli("exp", "save", cwd=repo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Updating lock file 'dvc.lock'"
    assert lines[1].startswith("Experiment has been saved as: ")
    name = lines[1].rsplit(" ", 1)[1]
    lock = git("show", f"{exp_sha(repo, name)}:dvc.lock", cwd=repo)
    assert lock_md5(lock, "src/train.py") == \
        hashlib.md5((repo / "src" / "train.py").read_bytes()).hexdigest()


def test_save_existing_name_needs_force(repo: Path) -> None:
    assert run_cli("exp", "save", "-n", "sv", cwd=repo).returncode == 0
    first = exp_sha(repo, "sv")
    clash = run_cli("exp", "save", "-n", "sv", cwd=repo)
    assert clash.returncode == 1
    assert clash.stderr.startswith(
        "ERROR: failed to save experiment - Experiment conflicts with existing experiment 'sv'."
    )
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text().replace("7", "8"))
    forced = run_cli("exp", "save", "-n", "sv", "-f", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert exp_sha(repo, "sv") != first


def test_save_errors_exit_1(repo: Path) -> None:
    invalid = run_cli("exp", "save", "-n", "fo^o", cwd=repo)
    assert invalid.returncode == 1
    assert invalid.stderr == ("ERROR: failed to save experiment - Invalid exp name fo^o, the exp "
                              "name must follow rules in "
                              "https://git-scm.com/docs/git-check-ref-format\n")
    shutil.rmtree(repo / "model")
    missing = run_cli("exp", "save", "-n", "miss", cwd=repo)
    assert missing.returncode == 1
    assert missing.stderr.startswith(
        "ERROR: failed to save experiment - output 'model/model.json' does not exist"
    )
    assert exp_names(repo) == ["exp-a", "exp-b", "exp-c"]


# -- list ---------------------------------------------------------------------
def test_list_by_baseline(repo: Path) -> None:
    shas = {name: exp_sha(repo, name)[:7] for name in ("exp-a", "exp-b", "exp-c")}
    listing = run_cli("exp", "list", cwd=repo)
    assert listing.stdout == "main:\n" + "".join(
        f"\t{shas[n]} [{n}]\n" for n in ("exp-a", "exp-b", "exp-c")
    )
    first = head(repo)
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    assert run_cli("exp", "list", cwd=repo).stdout == ""
    assert run_cli("exp", "list", "--rev", "HEAD~1", cwd=repo).stdout == listing.stdout.replace(
        "main:", f"{first[:7]}:"
    )
    git("tag", "v1", first, cwd=repo)
    everything = run_cli("exp", "list", "-A", cwd=repo)
    assert everything.stdout.splitlines()[0] == "v1:"  # DVC prefers tags to branch names
    assert run_cli("exp", "list", "-n", "2", "--name-only", cwd=repo).stdout.split() == \
        ["exp-a", "exp-b", "exp-c"]
    assert run_cli("exp", "list", "-A", "--sha-only", cwd=repo).stdout.split() == [
        exp_sha_at(repo, first, n) for n in ("exp-a", "exp-b", "exp-c")
    ]
    bad = run_cli("exp", "list", "--rev", "nosuch", cwd=repo)
    assert bad.returncode == 255 and "unknown Git revision 'nosuch'" in bad.stderr
