"""Reading files out of commits, each git object parsed once.

``exp show`` reads three or four files from each of a thousand commits, and most
of them are the same blobs (the baseline's ``dvc.yaml``, its ``src/``). Going
through dulwich for every read resolves the revision and parses its trees again,
and a loose object makes dulwich list ``objects/pack`` again before it looks at
the loose file. Objects are named by their content, so parsed trees and blob bytes
are kept here by sha for as long as the repository is open.
"""
from __future__ import annotations

import stat

from dulwich.objects import S_ISGITLINK, Blob, Commit, ObjectID, Tree
from dulwich.repo import Repo

#: blobs larger than this are read again rather than kept
_KEEP_BLOB_BYTES = 1 << 20


class ObjectCache:
    """Commits, trees and small blobs of one repository, by sha."""

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._commits: dict[bytes, Commit] = {}
        self._trees: dict[bytes, Tree] = {}
        self._blobs: dict[bytes, bytes] = {}

    def commit(self, sha: bytes) -> Commit | None:
        """The commit ``sha``, or None when that object is something else.

        :raises KeyError: no such object
        """
        found = self._commits.get(sha)
        if found is None:
            obj = self._repo[ObjectID(sha)]
            if isinstance(obj, Tree):
                self._trees[sha] = obj
            if not isinstance(obj, Commit):
                return None
            found = self._commits[sha] = obj
        return found

    def root_tree(self, sha: bytes) -> Tree | None:
        """Tree ``sha``, or the root tree of commit ``sha``; None for other objects.

        :raises KeyError: no such object
        """
        if sha in self._trees:
            return self._trees[sha]
        commit = self.commit(sha)
        if commit is not None:
            return self.tree(commit.tree)
        return self._trees.get(sha)

    def tree(self, sha: bytes) -> Tree:
        """The tree ``sha``.

        :raises KeyError: no such object
        :raises TypeError: the object is not a tree
        """
        found = self._trees.get(sha)
        if found is None:
            obj = self._repo[ObjectID(sha)]
            if not isinstance(obj, Tree):
                raise TypeError(f"{sha.decode()} is a {obj.type_name.decode()}, not a tree")
            found = self._trees[sha] = obj
        return found

    def blob(self, sha: bytes) -> bytes | None:
        """The bytes of blob ``sha``, or None when it is something else (a submodule commit)."""
        found = self._blobs.get(sha)
        if found is None:
            obj = self._repo[ObjectID(sha)]
            if not isinstance(obj, Blob):
                return None
            found = bytes(obj.as_raw_string())
            if len(found) <= _KEEP_BLOB_BYTES:
                self._blobs[sha] = found
        return found

    def lookup(self, tree: Tree, path: bytes) -> tuple[int, bytes] | None:
        """``(mode, sha)`` of ``path`` below ``tree`` (``b""`` is the tree), or None when absent.

        A path through a file or a submodule is absent, as in git.
        """
        mode, sha = stat.S_IFDIR, tree.id
        for part in path.split(b"/") if path else []:
            if not stat.S_ISDIR(mode):
                return None
            try:
                mode, sha = self.tree(sha)[part]
            except KeyError:
                return None
        return mode, sha

    def read(self, tree: Tree, path: bytes) -> bytes | None:
        """The bytes of file ``path`` below ``tree`` (a symlink's target), or None."""
        found = self.lookup(tree, path)
        if found is None or stat.S_ISDIR(found[0]) or S_ISGITLINK(found[0]):
            return None
        return self.blob(found[1])

