"""Git objects and refs through dulwich: opening the store, writing objects and refs that survive races."""
from __future__ import annotations

import os
import time
from typing import Any, Callable, TypeVar

from gt.ledger.gitdir import RepoPaths

T = TypeVar("T")

STALE_LOCK_SECONDS = 1.0


def open_object_store(repo: RepoPaths) -> Any:
    """The repository's objects; inside a git hook, also the objects of a push still in quarantine."""
    from dulwich.object_store import DiskObjectStore

    quarantine = os.environ.get("GIT_OBJECT_DIRECTORY")
    if quarantine:
        alternates = [p for p in os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES", "").split(os.pathsep) if p]
        return DiskObjectStore(quarantine, alternates=alternates or [repo.objects])
    return DiskObjectStore(repo.objects)


def open_refs(repo: RepoPaths) -> Any:
    from dulwich.refs import DiskRefsContainer

    return DiskRefsContainer(repo.commondir)


def retry_git_lock(action: Callable[[], T], lockfile: str, *, we_hold_the_writer_lock: bool) -> T:
    """Run `action`; when a git `.lock` file is in the way, wait briefly, then clear it if stale.

    dulwich raises FileLocked when another process is writing the same file (two writers of one
    identical object, or a ref update in flight). A lock file left by a killed writer never goes
    away by itself: once we hold the ledger's writer lock, no writer of ours can own it, so a lock
    file that has not changed for STALE_LOCK_SECONDS is removed.
    """
    from dulwich.file import FileLocked

    deadline = time.monotonic() + 5 * STALE_LOCK_SECONDS
    while True:
        try:
            return action()
        except FileLocked:
            if time.monotonic() > deadline:
                raise
            try:
                age = time.time() - os.stat(lockfile).st_mtime
            except FileNotFoundError:
                continue
            if we_hold_the_writer_lock and age > STALE_LOCK_SECONDS:
                try:
                    os.unlink(lockfile)
                except FileNotFoundError:
                    pass
                continue
            time.sleep(0.01)


def add_objects(store: Any, objects: list[Any]) -> None:
    """Write objects as loose objects; an object another process is writing at the same moment is fine."""
    for obj in objects:
        path = store._get_shafile_path(obj.id)  # dulwich's own path for this loose object
        retry_git_lock(lambda: store.add_object(obj), path + ".lock", we_hold_the_writer_lock=True)


def set_ref_if_equals(refs: Any, name: str, old: str | None, new: str) -> bool:
    """Compare-and-swap a ref (None: the ref must not exist yet)."""
    from gt.ledger.gitdir import ZERO

    ref = name.encode()
    expected = (old or ZERO).encode()
    lockfile = os.path.join(os.fsdecode(refs.path), name) + ".lock"
    return retry_git_lock(
        lambda: refs.set_if_equals(ref, expected, new.encode()), lockfile, we_hold_the_writer_lock=True
    )
