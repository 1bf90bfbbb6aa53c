"""The work tree as git sees it: status, ignore rules, snapshots, checkout.

Nothing here writes the index or moves HEAD. New blobs and trees go into the
object store, which is safe: unreferenced objects are what ``git gc`` prunes.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from dulwich.config import Config
from dulwich.ignore import IgnoreFilter, IgnoreFilterManager, default_user_ignore_filter_path
from dulwich.index import (
    ConflictedIndexEntry,
    Index,
    IndexEntry,
    blob_from_path_and_mode,
    build_file_from_blob,
)
from dulwich.objects import S_ISGITLINK, Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from dvcexp_plugin.git.errors import GitError
from dvcexp_plugin.git.objects import add_object, write_tree

#: (path, sha, mode) as stored in trees and the index
Entry = tuple[bytes, ObjectID, int]


@dataclass(frozen=True)
class GitStatus:
    """``git status`` in lists of work-tree-relative paths, each sorted."""

    staged_new: tuple[str, ...] = ()
    staged_modified: tuple[str, ...] = ()
    staged_deleted: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()  #: tracked, changed in the work tree, not staged
    deleted: tuple[str, ...] = ()  #: tracked, missing from the work tree
    untracked: tuple[str, ...] = ()  #: files (``dir/`` for nested repositories), not ignored
    conflicted: tuple[str, ...] = ()

    @property
    def has_tracked_changes(self) -> bool:
        """Anything an experiment commit would pick up (staged or ``git add -u``)."""
        return any(
            (self.staged_new, self.staged_modified, self.staged_deleted, self.modified,
             self.deleted, self.conflicted)
        )

    @property
    def is_clean(self) -> bool:
        """No tracked change and no untracked file."""
        return not self.has_tracked_changes and not self.untracked


def is_gitlink(mode: int) -> bool:
    """Whether a tree mode is a submodule commit."""
    return S_ISGITLINK(mode)


def walk_tree(repo: Repo, tree: Tree, prefix: bytes = b"") -> list[Entry]:
    """Every non-tree entry below ``tree``, paths prefixed with ``prefix``."""
    found: list[Entry] = []
    for item in tree.iteritems():
        path = prefix + b"/" + item.path if prefix else item.path
        if stat.S_ISDIR(item.mode):
            sub = repo[item.sha]
            assert isinstance(sub, Tree)
            found.extend(walk_tree(repo, sub, path))
        else:
            found.append((path, item.sha, item.mode))
    return found


def file_mode(st: os.stat_result, known_mode: int | None, filemode: bool) -> int:
    """The tree mode git records for a file with stat ``st``.

    :param known_mode: the mode git knew before (index or base tree), None if new
    :param filemode: ``core.filemode``; when false the exec bit on disk is not trusted
    """
    if stat.S_ISLNK(st.st_mode):
        return stat.S_IFLNK
    if not filemode and known_mode is not None and stat.S_ISREG(known_mode):
        return known_mode
    return 0o100755 if st.st_mode & stat.S_IXUSR else 0o100644


def _mtime_ns(value: int | float | tuple[int, int]) -> int:
    if isinstance(value, tuple):
        return value[0] * 1_000_000_000 + value[1]
    return int(value * 1_000_000_000)


class _WorkTreeReader:
    """Hashes work-tree files, trusting the index's stat data like git does."""

    def __init__(self, repo: Repo, config: Config, index: Index, write: bool) -> None:
        self.repo = repo
        self.root = os.fsencode(repo.path)
        self.filemode = config.get_boolean(b"core", b"filemode", os.name != "nt")
        self.write = write
        try:
            self.index_mtime = os.stat(index.path).st_mtime_ns
        except OSError:
            self.index_mtime = 0

    def mode_of(self, st: os.stat_result, index_mode: int | None) -> int:
        return file_mode(st, index_mode, self.filemode)

    def _stat_clean(self, entry: IndexEntry, st: os.stat_result) -> bool:
        mtime = _mtime_ns(entry.mtime)
        return (
            mtime == st.st_mtime_ns
            and entry.size == st.st_size % 2**32
            and entry.ino == st.st_ino % 2**32
            and stat.S_IFMT(entry.mode) == stat.S_IFMT(st.st_mode)
            # racy git: a file touched in the index's own timestamp tick is re-hashed
            and mtime < self.index_mtime
        )

    def blob_id(self, full: bytes, st: os.stat_result) -> ObjectID:
        blob = blob_from_path_and_mode(full, st.st_mode)
        if self.write and blob.id not in self.repo.object_store:
            add_object(self.repo.object_store, blob)
        return ObjectID(blob.id)

    def current(
        self, path: bytes, entry: IndexEntry | ConflictedIndexEntry
    ) -> tuple[ObjectID, int] | None:
        """``(sha, mode)`` of tracked ``path`` as it is now, None when gone."""
        known = entry if isinstance(entry, IndexEntry) else entry.this or entry.other
        if isinstance(entry, IndexEntry) and (is_gitlink(entry.mode) or entry.skip_worktree):
            return entry.sha, entry.mode
        full = os.path.join(self.root, path)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            return None  # replaced by a directory: git add -u drops the file
        mode = self.mode_of(st, known.mode if known else None)
        if isinstance(entry, IndexEntry) and self._stat_clean(entry, st):
            return entry.sha, mode
        return self.blob_id(full, st), mode


def _full_index(repo: Repo) -> Index:
    index = repo.open_index()
    if index.is_sparse():
        index.ensure_full_index(repo.object_store)
    return index


def _head_entries(repo: Repo) -> dict[bytes, tuple[ObjectID, int]]:
    try:
        head = repo[repo.refs[Ref(b"HEAD")]]
    except KeyError:
        return {}
    assert isinstance(head, Commit)
    tree = repo[head.tree]
    assert isinstance(tree, Tree)
    return {path: (sha, mode) for path, sha, mode in walk_tree(repo, tree)}


def _relative(repo: Repo, path: str) -> str:
    root = os.fsdecode(repo.path)
    full = os.path.normpath(os.path.join(root, path))
    rel = os.path.relpath(full, root)
    if rel == os.curdir:
        return ""
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        raise GitError(f"'{path}' is outside the git repository '{root}'")
    return rel.replace(os.sep, "/")


def ignore_rules(repo: Repo, config: Config, top: str | None = None) -> IgnoreFilterManager:
    """Git's ignore rules, built as dulwich's ``IgnoreFilterManager.from_repo`` builds them.

    ``.gitignore`` files are read below ``top``; ``.git/info/exclude`` and the
    user's excludes file (``core.excludesFile``) come from ``repo``.

    :param top: a directory mirroring the work tree (a queue workspace); default the work tree
    """
    found = []
    for path in (
        os.path.join(repo.controldir(), "info", "exclude"),
        default_user_ignore_filter_path(config),
    ):
        try:
            found.append(IgnoreFilter.from_path(os.path.expanduser(path)))
        except OSError:
            continue
    ignorecase = config.get_boolean(b"core", b"ignorecase", False)
    return IgnoreFilterManager(top or repo.path, found, ignorecase)


def is_ignored(repo: Repo, config: Config, path: str) -> bool:
    """Whether git's ignore rules (all sources) match ``path``."""
    rel = _relative(repo, path)
    if not rel:
        return False
    if os.path.isdir(os.path.join(os.fsdecode(repo.path), rel)):
        rel += "/"
    return bool(ignore_rules(repo, config).is_ignored(rel))


def _walk_untracked(
    root: str, rel: str, index: Index, ignore: IgnoreFilterManager
) -> Iterator[str]:
    with os.scandir(os.path.join(root, rel)) as scan:
        items = sorted(scan, key=lambda e: e.name)
    for item in items:
        if item.name == ".git":
            continue
        path = f"{rel}/{item.name}" if rel else item.name
        if item.is_dir(follow_symlinks=False):
            if os.path.lexists(os.path.join(item.path, ".git")):
                if not ignore.is_ignored(path + "/"):
                    yield path + "/"  # a nested repository, shown as git does
            elif not ignore.is_ignored(path + "/") or not ignore.may_prune_directory(path + "/"):
                yield from _walk_untracked(root, path, index, ignore)
        elif os.fsencode(path) not in index and not ignore.is_ignored(path):
            yield path


def status(repo: Repo, config: Config) -> GitStatus:
    """Compare HEAD, the index and the work tree."""
    index = _full_index(repo)
    reader = _WorkTreeReader(repo, config, index, write=False)
    head = _head_entries(repo)
    lists: dict[str, list[bytes]] = {key: [] for key in GitStatus.__dataclass_fields__}
    for path, entry in index.items():
        if isinstance(entry, ConflictedIndexEntry):
            lists["conflicted"].append(path)
            continue
        if path not in head:
            lists["staged_new"].append(path)
        elif head[path] != (entry.sha, entry.mode):
            lists["staged_modified"].append(path)
        now = reader.current(path, entry)
        if now is None:
            lists["deleted"].append(path)
        elif now != (entry.sha, entry.mode):
            lists["modified"].append(path)
    lists["staged_deleted"] = [path for path in head if path not in index]
    ignore = ignore_rules(repo, config)
    untracked = list(_walk_untracked(os.fsdecode(repo.path), "", index, ignore))
    fields = {key: tuple(sorted(os.fsdecode(p) for p in value)) for key, value in lists.items()}
    fields["untracked"] = tuple(untracked)
    return GitStatus(**fields)


def _expand(root: bytes, rel: bytes) -> Iterator[bytes]:
    full = os.path.join(root, rel)
    st = os.lstat(full)
    if stat.S_ISDIR(st.st_mode):
        with os.scandir(full) as scan:
            names = sorted(item.name for item in scan)
        for name in names:
            if name != b".git":
                yield from _expand(root, rel + b"/" + name if rel else name)
    elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
        yield rel


def snapshot_tree(repo: Repo, config: Config, extra_paths: list[str]) -> str:
    """Index + ``git add -u`` + ``extra_paths`` as a tree; see ``GitRepo.snapshot_tree``."""
    index = _full_index(repo)
    reader = _WorkTreeReader(repo, config, index, write=True)
    entries: dict[bytes, tuple[ObjectID, int]] = {}
    for path, entry in index.items():
        now = reader.current(path, entry)
        if now is not None:
            entries[path] = now
    root = os.fsencode(repo.path)
    for extra in extra_paths:
        rel = os.fsencode(_relative(repo, extra))
        if not rel or rel == b".git" or rel.startswith(b".git/"):
            raise GitError(f"cannot add '{extra}' to an experiment commit; name a work-tree path")
        try:
            files = list(_expand(root, rel))
        except FileNotFoundError:
            raise GitError(
                f"'{extra}' does not exist; it cannot be added to the experiment"
            ) from None
        for path in files:
            full = os.path.join(root, path)
            st = os.lstat(full)
            old = index[path] if path in index else None
            mode = reader.mode_of(st, getattr(old, "mode", None))
            entries[path] = (reader.blob_id(full, st), mode)
    return write_tree(repo.object_store, entries).decode("ascii")


def _in_scope(path: bytes, scopes: list[bytes] | None) -> bool:
    if scopes is None:
        return True
    return any(not s or path == s or path.startswith(s + b"/") for s in scopes)


def _make_parents(root: bytes, path: bytes, index: Index) -> None:
    parts = path.split(b"/")[:-1]
    for depth in range(1, len(parts) + 1):
        rel = b"/".join(parts[:depth])
        current = os.path.join(root, rel)
        if os.path.islink(current) or os.path.isfile(current):
            if rel not in index:  # never destroy an untracked file
                raise GitError(
                    f"cannot write '{os.fsdecode(path)}': untracked file "
                    f"'{os.fsdecode(rel)}' is in the way; move it first"
                )
            os.unlink(current)  # a tracked file became a directory
        if not os.path.isdir(current):
            os.mkdir(current)


def _prune_empty_dirs(root: bytes, path: bytes) -> None:
    parent = os.path.dirname(path)
    while parent:
        try:
            os.rmdir(os.path.join(root, parent))
        except OSError:
            return
        parent = os.path.dirname(parent)


def checkout_files(
    repo: Repo, config: Config, tree: Tree, paths: list[str] | None, delete: bool = True
) -> list[str]:
    """Write ``tree``'s files under ``paths`` into the work tree; see ``GitRepo.checkout_files``."""
    root = os.fsencode(repo.path)
    scopes = None if paths is None else [os.fsencode(_relative(repo, p)) for p in paths]
    index = _full_index(repo)
    reader = _WorkTreeReader(repo, config, index, write=False)
    wanted = {p: (sha, mode) for p, sha, mode in walk_tree(repo, tree) if _in_scope(p, scopes)}
    changed: list[bytes] = []
    # deletions first, so a tracked directory can turn into a file
    for path in sorted(index.paths()) if delete else []:
        if path in wanted or not _in_scope(path, scopes):
            continue
        full = os.path.join(root, path)
        if os.path.islink(full) or os.path.isfile(full):
            os.unlink(full)
            _prune_empty_dirs(root, path)
            changed.append(path)
    for path, (sha, mode) in sorted(wanted.items()):
        if is_gitlink(mode) or b".git" in path.split(b"/") or b".." in path.split(b"/"):
            continue
        full = os.path.join(root, path)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise GitError(
                f"cannot write '{os.fsdecode(path)}': a directory is in the way; move it first"
            )
        if st is not None and (reader.blob_id(full, st), reader.mode_of(st, mode)) == (sha, mode):
            continue
        _make_parents(root, path, index)
        blob = repo[sha]
        assert isinstance(blob, Blob)
        build_file_from_blob(blob, mode, full, honor_filemode=reader.filemode)
        changed.append(path)
    return sorted(os.fsdecode(p) for p in changed)
