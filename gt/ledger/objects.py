"""Git objects and refs through dulwich: opening the store, writing objects and refs that survive races."""
from __future__ import annotations

import functools
import os
import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from gt.ledger.gitdir import RepoPaths

if TYPE_CHECKING:
    from dulwich.refs import DiskRefsContainer

T = TypeVar("T")

STALE_LOCK_SECONDS = 1.0
FOREIGN_LOCK_WAIT_SECONDS = 5.0


def open_object_store(repo: RepoPaths) -> Any:
    """The repository's objects; inside a git hook, also the objects of a push still in quarantine."""
    from dulwich.object_store import DiskObjectStore

    quarantine = os.environ.get("GIT_OBJECT_DIRECTORY")
    if quarantine:
        alternates = [p for p in os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES", "").split(os.pathsep) if p]
        return DiskObjectStore(quarantine, alternates=alternates or [repo.objects])
    return DiskObjectStore(repo.objects)


def open_refs(repo: RepoPaths) -> DiskRefsContainer:
    from dulwich.refs import DiskRefsContainer

    return DiskRefsContainer(repo.commondir)


def retry_git_lock(action: Callable[[], T], lockfile: str, *, is_ours: Callable[[str], bool]) -> T:
    """Run `action`; when a git `.lock` file is in the way, wait for it, and clear it when it is ours.

    dulwich raises FileLocked while another process writes the same file. A lock left by a killed
    writer of ours never goes away by itself: `is_ours(lockfile)` (asked while we hold the ledger's
    writer lock) says when the lock file can only be such a leftover. Anything else is waited for,
    then reported: it may belong to a git command still running.
    """
    from dulwich.file import FileLocked

    deadline = time.monotonic() + FOREIGN_LOCK_WAIT_SECONDS
    while True:
        try:
            return action()
        except FileLocked:
            if is_ours(lockfile):
                try:
                    os.unlink(lockfile)
                except FileNotFoundError:
                    pass
                continue
            if time.monotonic() > deadline:
                from gt.errors import GtError

                raise GtError(
                    f"{lockfile} is held by another process; if no git command is running, "
                    "`bd doctor --fix` removes it", code="locked",
                ) from None
            time.sleep(0.01)


PACK_FROM = 256  # objects from which one write goes into a pack of its own (gt.ledger.store), not loose files


def add_objects(store: Any, objects: list[Any]) -> None:
    """Write the objects of a small commit as loose objects, where an object another process is
    writing at the same moment is waited for (a large one is a pack: gt.ledger.store._ObjectSink).

    Only dulwich writes loose objects through `.lock` files (git uses temporary files), and we hold
    the ledger's writer lock, so an object lock file unchanged for a second was left by a killed writer.
    """
    stale = functools.partial(_older_than, seconds=STALE_LOCK_SECONDS)
    for obj in objects:
        retry_git_lock(functools.partial(store.add_object, obj), store._get_shafile_path(obj.id) + ".lock",
                       is_ours=stale)


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime > seconds
    except FileNotFoundError:
        return False


def set_ref_if_equals(refs: DiskRefsContainer, name: str, old: str | None, new: str, private_dir: str) -> bool:
    """Compare-and-swap a ref (None: the ref must not exist yet). Call with the writer lock held.

    A marker file in our private dir records a ref update in flight; finding one before we start
    means a writer of ours died mid-update, so a `.lock` on the ref is its leftover.
    """
    from dulwich.objects import ObjectID
    from dulwich.refs import Ref

    from gt.ledger.gitdir import ZERO

    ref = Ref(name.encode())
    expected = ObjectID((old or ZERO).encode())
    lockfile = os.path.join(os.fsdecode(refs.path), name) + ".lock"
    marker = os.path.join(private_dir, "ref-update-in-flight")
    leftover = os.path.exists(marker)
    with open(marker, "w") as f:
        f.write(f"{os.getpid()} {name}\n")
    try:
        return retry_git_lock(lambda: refs.set_if_equals(ref, expected, ObjectID(new.encode())), lockfile,
                              is_ours=lambda _: leftover)
    finally:
        os.unlink(marker)
