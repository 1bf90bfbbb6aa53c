"""The one place dvcexp talks to git (through dulwich).

Everything here takes and returns ``str``: shas are 40-hex strings, paths are
``/``-separated and relative to the work tree root, ref names are full
(``refs/exps/...``). Bytes exist only inside this package.

Refs are read straight from ``.git`` (:mod:`.gitdir`); dulwich, and the modules
built on it, are imported when an object is first read or anything is written,
so ``exp show`` answered from its cache never loads them.
"""
from __future__ import annotations

import os
import re
import stat
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dvcexp_plugin.git.errors import GitError, NoCommitsError
from dvcexp_plugin.git.gitdir import GitDir, well_formed

if TYPE_CHECKING:
    from dulwich.config import StackedConfig
    from dulwich.objects import Commit, Tree
    from dulwich.repo import Repo

    from dvcexp_plugin.git.identity import Kind
    from dvcexp_plugin.git.trees import ObjectCache
    from dvcexp_plugin.git.worktree import GitStatus

PathLike = str | os.PathLike[str]
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class CommitInfo:
    """What a commit records. Times are unix seconds; offsets are seconds east of UTC."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: str  #: ``Name <email>``
    author_time: int
    author_tz: int
    committer: str  #: ``Name <email>``
    commit_time: int
    commit_tz: int
    message: str


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class GitRepo:
    """A git work tree and its repository. Open with :meth:`find`."""

    def __init__(self, gitdir: GitDir) -> None:
        self._gitdir = gitdir
        self._dulwich: Repo | None = None
        self._objects: ObjectCache | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._config: StackedConfig | None = None
        #: full commit sha → its root tree sha (commits never change)
        self._commit_trees: dict[str, str] = {}

    @property
    def _repo(self) -> Repo:
        if self._dulwich is None:
            from dulwich.repo import Repo

            repo = self._dulwich = Repo(self._gitdir.worktree)
            # close pack files when this object goes, or at exit before modules are torn
            # down: dulwich otherwise prints "Exception ignored in ... __del__" at shutdown
            self._finalizer = weakref.finalize(self, repo.close)
        return self._dulwich

    @property
    def _cache(self) -> ObjectCache:
        if self._objects is None:
            from dvcexp_plugin.git.trees import ObjectCache

            self._objects = ObjectCache(self._repo)
        return self._objects

    @classmethod
    def find(cls, path: PathLike | GitRepo = ".", *, require_commit: bool = True) -> GitRepo:
        """Open the repository whose work tree holds ``path``.

        :param path: any path inside the work tree, or an already open ``GitRepo``
        :param require_commit: fail unless HEAD points at a commit
        :raises NotAGitRepoError: ``path`` is not inside a git work tree
        :raises NoCommitsError: ``require_commit`` and the repository is empty
        """
        if isinstance(path, GitRepo):
            found = path
        else:
            found = cls(GitDir.discover(os.fspath(path)))
        if require_commit:
            found.head_sha()
        return found

    def close(self) -> None:
        """Release pack file handles (also done on garbage collection and at exit)."""
        if self._finalizer is not None:
            self._finalizer()
        self._dulwich = self._objects = self._finalizer = None

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GitRepo({self.root!r})"

    @property
    def root(self) -> str:
        """Absolute path of the work tree's top directory."""
        return self._gitdir.worktree

    @property
    def git_dir(self) -> str:
        """Absolute path of this work tree's control directory (``.git``)."""
        return self._gitdir.controldir

    def _config_stack(self) -> StackedConfig:
        # repo/global/system config, read once per GitRepo
        if self._config is None:
            self._config = self._repo.get_config_stack()
        return self._config

    # -- revisions ---------------------------------------------------------

    def head_sha(self) -> str:
        """The commit HEAD points at.

        :raises NoCommitsError: the current branch has no commit yet
        """
        sha = self._gitdir.read_ref("HEAD")
        if sha is None:
            raise NoCommitsError(
                f"git repository '{self.root}' has no commits yet; make the first one: "
                "git add -A && git commit -m 'Initial commit'"
            )
        return sha

    def head_branch(self) -> str | None:
        """The checked-out branch's short name (``main``), or None when HEAD is detached."""
        return self._gitdir.head_branch()

    def resolve(self, rev: str) -> str:
        """The commit sha ``rev`` names: branch, tag, (short) sha, ``HEAD~1``, ``v1^2``…

        :raises UnknownRevisionError: when ``rev`` names no commit
        """
        if rev == "HEAD":
            return self.head_sha()  # HEAD only ever points at a commit
        return self._commit(rev).id.decode("ascii")

    def commit_info(self, sha: str) -> CommitInfo:
        """Parents, author, committer, times and message of commit ``sha`` (or any rev)."""
        commit = self._commit(sha)
        return CommitInfo(
            sha=commit.id.decode("ascii"),
            tree=commit.tree.decode("ascii"),
            parents=tuple(p.decode("ascii") for p in commit.parents),
            author=_text(commit.author),
            author_time=commit.author_time,
            author_tz=commit.author_timezone,
            committer=_text(commit.committer),
            commit_time=commit.commit_time,
            commit_tz=commit.commit_timezone,
            message=_text(commit.message),
        )

    def _by_full_sha(self, rev: str, lookup: Callable[[bytes], Any]) -> Any:
        """``lookup(sha)`` from the object cache when ``rev`` is a full sha it finds, else None."""
        if not _FULL_SHA.match(rev):
            return None
        try:
            return lookup(rev.encode("ascii"))
        except KeyError:
            return None

    def _commit(self, rev: str) -> Commit:
        found: Commit | None = self._by_full_sha(rev, self._cache.commit)
        if found is not None:
            return found
        from dvcexp_plugin.git.revisions import resolve_commit

        return resolve_commit(self._repo, rev)

    # -- reading trees -----------------------------------------------------

    def _tree(self, rev: str) -> Tree:
        # a full tree sha is accepted too (snapshot_tree's result, before any commit)
        found: Tree | None = self._by_full_sha(rev, self._cache.root_tree)
        if found is not None:
            return found
        return self._cache.tree(self._commit(rev).tree)

    def read_file(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev`` (a symlink's target), or None when absent or a dir."""
        return self._cache.read(self._tree(rev), os.fsencode(path.strip("/")))

    def list_files(self, rev: str, prefix: str = "") -> list[str]:
        """Sorted paths of the files (and symlinks) at ``rev`` under directory ``prefix``.

        ``prefix`` naming a file returns just that file; an absent one returns ``[]``.
        """
        from dvcexp_plugin.git import worktree as _worktree

        base = prefix.strip("/")
        found = self._cache.lookup(self._tree(rev), os.fsencode(base))
        if found is None:
            return []
        mode, sha = found
        if not stat.S_ISDIR(mode):
            return [] if _worktree.is_gitlink(mode) else [base]
        entries = _worktree.walk_tree(self._repo, self._cache.tree(sha), os.fsencode(base))
        return sorted(os.fsdecode(p) for p, _sha, mode in entries if not _worktree.is_gitlink(mode))

    # -- identity and commits -----------------------------------------------

    def identity(self, kind: Kind = "author") -> tuple[str, str]:
        """``(name, email)`` git would use for ``kind`` (``author`` or ``committer``).

        :raises IdentityError: nothing configured; the message says how to configure it
        """
        from dvcexp_plugin.git.identity import read_identity

        return read_identity(self._config_stack(), kind)

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: str | None = None,
        committer: str | None = None,
        timestamp: int | None = None,
    ) -> str:
        """Write a commit object (no ref moves) and return its sha.

        :param tree: sha of the root tree, e.g. from :meth:`snapshot_tree`
        :param parents: parent shas, first parent first
        :param message: stored as given (DVC's experiment messages have no final newline)
        :param author: ``Name <email>``; default :meth:`identity` ``("author")``
        :param committer: ``Name <email>``; default :meth:`identity` ``("committer")``
        :param timestamp: unix seconds for both lines; default ``GIT_*_DATE`` or now
        """
        from dulwich.objects import Commit, ObjectID

        from dvcexp_plugin.git.identity import commit_date
        from dvcexp_plugin.git.objects import add_object

        commit = Commit()
        commit.tree = ObjectID(tree.encode("ascii"))
        commit.parents = [ObjectID(p.encode("ascii")) for p in parents]
        commit.author = (author or "{} <{}>".format(*self.identity("author"))).encode()
        commit.committer = (committer or "{} <{}>".format(*self.identity("committer"))).encode()
        commit.author_time, commit.author_timezone = commit_date("author", timestamp)
        commit.commit_time, commit.commit_timezone = commit_date("committer", timestamp)
        commit.encoding = None
        commit.message = message.encode("utf-8")
        store = self._repo.object_store
        for sha in [tree, *parents]:
            if ObjectID(sha.encode("ascii")) not in store:
                raise GitError(f"cannot commit: object {sha} is not in '{self.git_dir}'")
        add_object(store, commit)
        return commit.id.decode("ascii")

    # -- refs (compare-and-swap) -------------------------------------------

    def get_ref(self, name: str) -> str | None:
        """The sha ``name`` points at (symbolic refs followed), or None."""
        if name != "HEAD" and not well_formed(name):
            return None
        return self._gitdir.read_ref(name)

    def set_ref(
        self,
        name: str,
        new: str,
        expected_old: str | None = None,
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        """Point ref ``name`` at ``new``, atomically, only if it still holds ``expected_old``.

        :param expected_old: the sha the caller last saw; None means "must not exist yet"
        :param force: skip the check (``exp run -f``)
        :param message: reflog message
        :raises RefConflictError: the ref is not at ``expected_old`` or is locked
        """
        from dvcexp_plugin.git import refs as _refs

        _refs.set_ref(self._repo, name, new, expected_old, force=force, message=message)

    def delete_ref(self, name: str, expected_old: str | None = None) -> bool:
        """Delete ref ``name``; with ``expected_old``, only if it still points there.

        :returns: False when the ref did not exist (and nothing was expected)
        :raises RefConflictError: the ref moved away from ``expected_old``
        """
        from dvcexp_plugin.git import refs as _refs

        return _refs.delete_ref(self._repo, name, expected_old)

    def iter_refs(self, prefix: str = "refs/") -> dict[str, str]:
        """``{full ref name: sha}`` for every ref whose name starts with ``prefix``."""
        return self._gitdir.read_refs(prefix)

    # -- work tree ---------------------------------------------------------

    def status(self) -> GitStatus:
        """Staged, unstaged and untracked changes of the work tree (``git status``)."""
        from dvcexp_plugin.git import worktree as _worktree

        return _worktree.status(self._repo, self._config_stack())

    def is_ignored(self, path: str) -> bool:
        """Whether gitignore rules ignore ``path`` (work-tree-relative or absolute).

        Reads nested ``.gitignore`` files, ``.git/info/exclude`` and the global
        excludes file. Rules only: a tracked file can still be "ignored".
        """
        from dvcexp_plugin.git import worktree as _worktree

        return _worktree.is_ignored(self._repo, self._config_stack(), path)

    def snapshot_tree(self, extra_paths: list[str] | tuple[str, ...] = ()) -> str:
        """The tree DVC commits for an experiment, written to the object store.

        Index + ``git add -u`` (tracked files as they are now, deletions included) +
        ``extra_paths`` (forced in even if untracked or ignored; directories recursively).
        The real index, HEAD and work tree are left alone.
        """
        from dvcexp_plugin.git import worktree as _worktree

        return _worktree.snapshot_tree(self._repo, self._config_stack(), list(extra_paths))

    # -- queue workspaces --------------------------------------------------

    def commit_workspace(
        self, base_tree_rev: str, overrides: Mapping[str, bytes | None], message: str,
        parents: list[str],
    ) -> str:
        """A commit of ``base_tree_rev``'s tree with some files replaced; no ref moves.

        Stores a queue entry (workspace + ``-S`` overrides) without touching the
        work tree, index or HEAD. A replaced file keeps its exec bit; new files are 0644.

        :param base_tree_rev: a commit rev, or a tree sha such as :meth:`snapshot_tree`'s
        :param overrides: repo-relative ``/`` path → new bytes, or None to delete it
        :param message: the commit message, stored as given
        :param parents: parent shas, first parent first
        :raises WorkspaceError: a path is malformed or collides with a directory/file
        """
        from dvcexp_plugin.git import workspaces as _workspaces

        tree = _workspaces.apply_overrides(self._repo, self._tree(base_tree_rev), overrides)
        return self.commit_tree(tree, parents, message)

    def materialize(self, rev: str, dest: PathLike) -> None:
        """Write the tree of ``rev`` (commit rev or tree sha) into directory ``dest``.

        ``dest`` (and its parents) are created; it becomes a plain directory, not a
        repository. Files get their exec bit, symlinks stay symlinks, submodules are skipped.
        On failure ``dest`` may be half written: remove it before retrying.

        :raises WorkspaceError: ``dest`` exists and is not an empty directory
        """
        from dvcexp_plugin.git import workspaces as _workspaces

        _workspaces.materialize(self._repo, self._tree(rev), os.fspath(dest), rev)

    def snapshot_dir(
        self, base_rev: str, workdir: PathLike, extra_paths: list[str] | tuple[str, ...] = ()
    ) -> str:
        """The experiment tree of a workspace made by :meth:`materialize`, as a tree sha.

        :meth:`snapshot_tree` for a directory outside the repository: every file of
        ``base_rev``'s tree as it now is in ``workdir`` (modified, deleted, exec bit),
        plus ``extra_paths`` (relative to ``workdir``). A named file goes in even if
        ignored; a named directory adds the files below it that the ``.gitignore``
        files in ``workdir`` (and this repository's excludes) do not ignore. Other
        untracked files are left out, as DVC does. Objects go to this repository.

        :raises WorkspaceError: ``workdir`` or an extra path is missing or outside ``workdir``
        """
        from dvcexp_plugin.git import workspaces as _workspaces

        return _workspaces.snapshot_dir(
            self._repo, self._config_stack(), self._tree(base_rev), os.fspath(workdir),
            list(extra_paths),
        )

    def checkout_files(
        self, rev: str, paths: list[str] | None = None, *, delete: bool = True
    ) -> list[str]:
        """Make ``paths`` (files or dirs; None = all) in the work tree match ``rev``.

        Files of ``rev`` are written with their modes; tracked files under ``paths``
        that ``rev`` lacks are deleted (unless ``delete`` is false); untracked files
        are kept, or overwritten where ``rev`` has a file of that name. Index and HEAD stay.

        :returns: the paths written or deleted
        """
        from dvcexp_plugin.git import worktree as _worktree

        return _worktree.checkout_files(
            self._repo, self._config_stack(), self._tree(rev), paths, delete
        )

    def reset_index(self) -> None:
        """Make the index match HEAD, leaving the work tree alone (``git reset --mixed``)."""
        from dvcexp_plugin.git import stash as _stash

        _stash.reset_index(self._repo)

    def index_tree(self) -> str:
        """The index as a tree (``git write-tree``), written to the object store."""
        from dvcexp_plugin.git import stash as _stash

        return _stash.index_tree(self._repo)

    def files_tree(self, paths: list[str]) -> str:
        """A tree holding only the work-tree files ``paths``, written to the object store."""
        from dvcexp_plugin.git import stash as _stash

        return _stash.files_tree(self._repo, self._config_stack(), paths)

    def drop_reflog(self, name: str) -> None:
        """Delete the reflog of ref ``name`` (``git stash clear`` empties a stash this way)."""
        from dvcexp_plugin.git import stash as _stash

        _stash.drop_reflog(self._repo, name)

