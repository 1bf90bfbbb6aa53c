"""Writing blobs and trees when several processes write the same objects at once.

Queue workers finishing together store identical objects (the same
``params.yaml``, the same unchanged subtrees). dulwich writes a loose object
through ``<object>.lock``, so the second writer of an object gets ``FileLocked``
where git would simply succeed. Objects are named by their content, so the
loser can write its own copy under a temporary name and rename it into place,
as git does (``tmp_obj_*``, which ``git prune`` cleans up if a crash leaves one).
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping

from dulwich.file import FileLocked
from dulwich.object_store import BaseObjectStore, DiskObjectStore
from dulwich.objects import ObjectID, ShaFile, Tree

from dvcexp_plugin.git.errors import GitError

#: path → (sha, mode), as git lists a tree recursively
Entries = Mapping[bytes, tuple[ObjectID, int]]
_Node = dict[bytes, "_Node | tuple[ObjectID, int]"]


def add_object(store: BaseObjectStore, obj: ShaFile) -> None:
    """Store ``obj`` unless present; safe when another process stores it concurrently."""
    try:
        store.add_object(obj)
    except FileLocked:
        if not isinstance(store, DiskObjectStore):
            raise
        _write_loose_unlocked(store, obj)


def _write_loose_unlocked(store: DiskObjectStore, obj: ShaFile) -> None:
    hex_sha = obj.id.decode("ascii")
    folder = os.path.join(os.fspath(store.path), hex_sha[:2])
    fd, tmp = tempfile.mkstemp(prefix="tmp_obj_", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(obj.as_legacy_object())
        os.chmod(tmp, 0o444)
        os.replace(tmp, os.path.join(folder, hex_sha[2:]))
    except BaseException:
        os.unlink(tmp)
        raise


def write_tree(store: BaseObjectStore, entries: Entries) -> ObjectID:
    """Write the trees holding ``entries`` (files, symlinks, gitlinks) and return the root's id.

    :raises GitError: one path is both a file and a directory
    """
    root: _Node = {}
    for path, value in entries.items():
        *dirs, name = path.split(b"/")
        node = root
        for part in dirs:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise GitError(f"'{os.fsdecode(path)}' lies below a file; remove one of the two")
            node = child
        if name in node:
            raise GitError(f"'{os.fsdecode(path)}' is both a file and a directory")
        node[name] = value
    return _write_node(store, root)


def _write_node(store: BaseObjectStore, node: _Node) -> ObjectID:
    tree = Tree()
    for name, value in node.items():
        if isinstance(value, dict):
            tree.add(name, stat.S_IFDIR, _write_node(store, value))
        else:
            sha, mode = value
            tree.add(name, mode, sha)
    if tree.id not in store:
        add_object(store, tree)
    return ObjectID(tree.id)
