"""DVC's local object cache: content-addressed files under ``.dvc/cache``.

Layout (DVC 3.x): ``<cache>/files/md5/<md5[:2]>/<md5[2:]>``; a directory
manifest is stored the same way under its ``<md5>.dir`` name. DVC 2.x objects
live at ``<cache>/<md5[:2]>/<md5[2:]>`` (``legacy=True``).

Objects are written to a unique temporary file in their final directory and
renamed into place, so concurrent writers of the same object never conflict
and no reader ever sees a partial object. They are made read-only (0o444), as
DVC does, because a hardlinked or symlinked workspace file shares them.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import sys
from collections.abc import Callable
from typing import Any, TypeGuard

from dvcexp_plugin.errors import CacheError
from dvcexp_plugin.hashing import HashInfo, dir_manifest, manifest_md5

#: DVC's default ``cache.type``
DEFAULT_CACHE_TYPES = ("reflink", "copy")
CACHE_TYPES = frozenset({"reflink", "hardlink", "symlink", "copy"})
_TYPES_HINT = "reflink, hardlink, symlink or copy"
#: mode of every cache object
OBJECT_MODE = 0o444
#: Linux ``_IOW(0x94, 9, int)``; ``fcntl.FICLONE`` only exists from Python 3.12
_FICLONE = 0x40049409
#: errors meaning "this link type cannot work here": stop trying it
_UNSUPPORTED = frozenset(
    {errno.EXDEV, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOTTY, errno.ENOSYS, errno.EPERM}
)
_HEX = frozenset("0123456789abcdef")


def cache_settings(repo_root: str) -> tuple[str, list[str]]:
    """Read ``cache.dir`` and ``cache.type`` from ``.dvc/config`` and ``config.local``.

    ``config.local`` wins. A relative ``dir`` is relative to the ``.dvc``
    directory, as DVC resolves it.

    :returns: ``(absolute cache dir, cache types in order)``
    :raises CacheError: the config names an unknown type
    """
    from dvcexp_plugin.repo import read_config, unquote

    dvc_dir = os.path.join(os.path.abspath(repo_root), ".dvc")
    cache_dir = os.path.join(dvc_dir, "cache")
    types = list(DEFAULT_CACHE_TYPES)
    section = read_config(repo_root).get("cache", {})
    if "dir" in section:
        value = os.path.expanduser(unquote(section["dir"]))
        cache_dir = os.path.normpath(os.path.join(dvc_dir, value))
    if "type" in section:
        types = [unquote(t) for t in unquote(section["type"]).split(",")]
        types = [t for t in types if t]
        unknown = [t for t in types if t not in CACHE_TYPES]
        if unknown:
            raise CacheError(
                f"unknown cache.type '{unknown[0]}' in '{dvc_dir}/config'; use {_TYPES_HINT}"
            )
    return cache_dir, types or list(DEFAULT_CACHE_TYPES)


class ObjectCache:
    """The local DVC object cache.

    :param cache_dir: the cache root (``.dvc/cache`` by default in DVC)
    :param cache_types: how checkouts link to objects, tried in order
    """

    def __init__(self, cache_dir: str, cache_types: list[str] | None = None) -> None:
        self.cache_dir = os.path.abspath(cache_dir)
        self.cache_types = list(cache_types or DEFAULT_CACHE_TYPES)
        unknown = [t for t in self.cache_types if t not in CACHE_TYPES]
        if unknown:
            raise CacheError(f"unknown cache type '{unknown[0]}'; use {_TYPES_HINT}")
        #: link types that proved unsupported here; skipped from then on, like DVC
        self._unsupported: set[str] = set()

    @classmethod
    def for_repo(cls, repo_root: str) -> ObjectCache:
        """Open the cache configured for the repository at ``repo_root``."""
        return cls(*cache_settings(repo_root))

    def oid_path(self, md5: str, *, legacy: bool = False) -> str:
        """Return the path of object ``md5`` (3.x layout, or 2.x with ``legacy``)."""
        if not _is_oid(md5):
            raise CacheError(f"invalid object id '{md5}'; expected 32 hex digits")
        base = self.cache_dir if legacy else os.path.join(self.cache_dir, "files", "md5")
        return os.path.join(base, md5[:2], md5[2:])

    def exists(self, md5: str, *, legacy: bool = False) -> bool:
        """Whether object ``md5`` is in the cache."""
        return os.path.isfile(self.oid_path(md5, legacy=legacy))

    def save_file(self, src_path: str, md5: str) -> None:
        """Store the content of ``src_path`` as object ``md5``; no-op if present.

        The content is reflinked when the filesystem can, else copied. When
        ``hardlink`` is the first cache type the object *is* the workspace
        file (as DVC does), which therefore becomes read-only too.
        """
        # DVC always tries reflink (a cheap copy), and hardlink only when it
        # is the preferred checkout type anyway
        types = ["reflink", "copy"]
        if self.cache_types[0] == "hardlink":
            types.insert(1, "hardlink")

        def fill(tmp: str) -> None:
            used = self._link(src_path, tmp, types)
            mode = OBJECT_MODE
            if used == "hardlink" and os.stat(tmp).st_mode & 0o111:
                # the inode is the workspace file too: keep it executable
                # (DVC ends up with the same 0o544 via its set_exec)
                mode |= stat.S_IEXEC
            _protect(tmp, mode)

        self._publish(self.oid_path(md5), fill, f"'{src_path}'")

    def save_manifest(self, entries: list[tuple[str, str]]) -> str:
        """Store a directory manifest; return its md5 (with ``.dir``)."""
        data = dir_manifest(entries)
        md5 = manifest_md5(data)

        def fill(tmp: str) -> None:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
            with os.fdopen(fd, "wb") as fobj:
                fobj.write(data)

        self._publish(self.oid_path(md5), fill, f"the manifest of {md5}")
        return md5

    def _publish(self, dest: str, fill: Callable[[str], None], what: str) -> None:
        """Create object ``dest`` atomically: ``fill`` a unique temp file, rename it."""
        if os.path.exists(dest):
            return
        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = f"{dest}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
            try:
                fill(tmp)
                # rename is atomic: concurrent savers each replace a whole object
                os.replace(tmp, dest)
            finally:
                _unlink_quiet(tmp)
        except OSError as exc:
            raise CacheError(
                f"cannot save {what} to '{self.cache_dir}' ({exc.strerror}); "
                "check that the source exists and the cache is writable"
            ) from None

    def save_tree(self, dir_path: str, manifest_entries: list[tuple[str, str]]) -> str:
        """Store every file of ``dir_path`` and then its manifest; return the ``.dir`` md5.

        The manifest goes last so that a present manifest implies its files
        were all saved (a crash in between leaves only orphan file objects).
        """
        for relpath, md5 in manifest_entries:
            self.save_file(os.path.join(dir_path, *relpath.split("/")), md5)
        return self.save_manifest(manifest_entries)

    def load_manifest(self, md5: str, *, legacy: bool = False) -> list[tuple[str, str]]:
        """Return the ``(relpath, md5)`` entries of directory object ``md5``.

        :raises CacheError: the manifest is missing or malformed
        """
        path = self.oid_path(md5, legacy=legacy)
        try:
            with open(path, "rb") as fobj:
                raw = json.loads(fobj.read())
        except FileNotFoundError:
            raise CacheError(
                f"directory object '{md5}' is not in the cache; re-run the stage or pull it"
            ) from None
        except (OSError, ValueError):
            raise CacheError(f"'{path}' is corrupted; delete it and re-run the stage") from None
        entries: list[tuple[str, str]] = []
        for item in raw if isinstance(raw, list) else [None]:
            fields = item if isinstance(item, dict) else {}
            relpath, oid = fields.get("relpath"), fields.get("md5")
            if not _is_oid(oid) or not _safe_relpath(relpath):
                raise CacheError(f"'{path}' is corrupted; delete it and re-run the stage")
            entries.append((relpath, oid))
        return entries

    def missing(self, hashinfo: HashInfo, *, legacy: bool = False) -> list[str]:
        """Return the object ids needed for ``hashinfo`` that are not in the cache.

        For a directory that is the manifest if it is missing or unreadable,
        else the absent file objects. Empty means complete.
        """
        if not self.exists(hashinfo.md5, legacy=legacy):
            return [hashinfo.md5]
        if not hashinfo.is_dir:
            return []
        try:
            entries = self.load_manifest(hashinfo.md5, legacy=legacy)
        except CacheError:
            return [hashinfo.md5]
        oids = sorted({oid for _, oid in entries})
        return [oid for oid in oids if not self.exists(oid, legacy=legacy)]

    def is_complete(self, hashinfo: HashInfo, *, legacy: bool = False) -> bool:
        """Whether everything needed to check out ``hashinfo`` is in the cache."""
        return not self.missing(hashinfo, legacy=legacy)

    def checkout_file(
        self, md5: str, dest_path: str, *, isexec: bool = False, legacy: bool = False
    ) -> None:
        """Replace ``dest_path`` by object ``md5``, linked per the cache types.

        :raises CacheError: the object is missing or no cache type works
        """
        src = self.oid_path(md5, legacy=legacy)
        if not os.path.isfile(src):
            raise CacheError(
                f"'{dest_path}' ({md5}) is not in the cache; re-run the stage or pull it"
            )
        _make_room(dest_path, is_dir=False)
        self._checkout_one(src, dest_path)
        if isexec:
            _set_exec(dest_path)

    def checkout(
        self, md5: str, dest_path: str, isexec: bool = False, *, legacy: bool = False
    ) -> None:
        """Check out a file or a ``.dir`` object to ``dest_path``.

        For a directory, every object is checked for first, so a missing one
        leaves the workspace untouched; then the old content is removed and
        the tree recreated.
        """
        if not md5.endswith(".dir"):
            self.checkout_file(md5, dest_path, isexec=isexec, legacy=legacy)
            return
        entries = self.load_manifest(md5, legacy=legacy)
        absent = [oid for _, oid in entries if not self.exists(oid, legacy=legacy)]
        if absent:
            raise CacheError(
                f"'{dest_path}' misses {len(absent)} file(s) in the cache "
                f"(e.g. {absent[0]}); re-run the stage or pull it"
            )
        _make_room(dest_path, is_dir=True)
        made = {dest_path}
        for relpath, oid in entries:
            target = os.path.join(dest_path, *relpath.split("/"))
            parent = os.path.dirname(target)
            if parent not in made:
                _make_room(parent, is_dir=True, clear=False)
                made.add(parent)
            self._checkout_one(self.oid_path(oid, legacy=legacy), target)

    def _checkout_one(self, src: str, dest: str) -> None:
        try:
            self._link(src, dest, self.cache_types)
        except OSError as exc:
            raise CacheError(
                f"cannot check out '{dest}' with cache.type {','.join(self.cache_types)} "
                f"({exc.strerror}); add 'copy' to cache.type"
            ) from None

    def _link(self, src: str, dest: str, types: list[str]) -> str:
        """Create ``dest`` from ``src`` with the first type that works; return it."""
        error: OSError | None = None
        for typ in types:
            if typ in self._unsupported:
                continue
            try:
                _LINKERS[typ](src, dest)
                return typ
            except OSError as exc:
                error = exc
                _unlink_quiet(dest)
                if typ != "copy" and exc.errno in _UNSUPPORTED:
                    self._unsupported.add(typ)
        raise error or OSError(errno.ENOTSUP, "no usable cache type")


def _reflink(src: str, dest: str) -> None:
    if sys.platform != "linux":
        raise OSError(errno.ENOTSUP, "reflink is only implemented on Linux")
    import fcntl

    src_fd = os.open(src, os.O_RDONLY)
    try:
        dest_fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            fcntl.ioctl(dest_fd, _FICLONE, src_fd)
        finally:
            os.close(dest_fd)
    finally:
        os.close(src_fd)


def _hardlink(src: str, dest: str) -> None:
    if os.path.getsize(src) == 0:
        # as DVC: all empty files share one object and would hit the
        # filesystem's link limit (65000 on ext4); an empty file is free
        open(dest, "xb").close()
        return
    os.link(src, dest)


def _symlink(src: str, dest: str) -> None:
    os.symlink(os.path.abspath(src), dest)


def _copy(src: str, dest: str) -> None:
    # copyfile copies no mode: the copy gets the umask default, writable
    shutil.copyfile(src, dest)


_LINKERS: dict[str, Callable[[str, str], None]] = {
    "reflink": _reflink,
    "hardlink": _hardlink,
    "symlink": _symlink,
    "copy": _copy,
}


def _unlink_quiet(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _protect(path: str, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:
        pass  # as DVC: some filesystems (Samba) refuse; the content is still right


def _set_exec(path: str) -> None:
    # DVC adds the owner's exec bit only (``mode | S_IEXEC``)
    try:
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    except OSError:
        pass  # a shared object owned by someone else: the content is still right


def _is_oid(value: object) -> TypeGuard[str]:
    """32 hex digits, optionally with ``.dir``: anything else could escape the cache dir."""
    if not isinstance(value, str):
        return False
    digest = value[:-4] if value.endswith(".dir") else value
    return len(digest) == 32 and set(digest) <= _HEX


def _safe_relpath(relpath: object) -> TypeGuard[str]:
    """Reject manifest paths that would escape the checkout directory."""
    if not isinstance(relpath, str) or not relpath or relpath.startswith("/"):
        return False
    parts = relpath.split("/")
    return ".." not in parts and "" not in parts


def _make_room(path: str, *, is_dir: bool, clear: bool = True) -> None:
    """Remove what is at ``path`` (if ``clear``) and create it or its parent."""
    try:
        if clear:
            _remove(path)
        os.makedirs(path if is_dir else os.path.dirname(os.path.abspath(path)), exist_ok=True)
    except OSError as exc:
        msg = f"cannot replace '{path}' ({exc.strerror}); check its permissions"
        raise CacheError(msg) from None


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, onerror=_rmtree_fix_perms)
    elif os.path.lexists(path):
        os.unlink(path)


def _rmtree_fix_perms(func: Callable[..., Any], path: str, _exc: object) -> None:
    # a read-only directory blocks deleting its entries: make it writable, retry
    parent = os.path.dirname(path)
    os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
    func(path)
