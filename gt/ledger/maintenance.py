"""Keep the object store healthy: pack loose objects after a threshold and consolidate small packs."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dulwich.object_store import DiskObjectStore
    from dulwich.objects import ObjectID, ShaFile
    from dulwich.pack import Pack

    from gt.ledger.store import Ledger

# Like git's gc.auto: estimate the loose objects from one fan-out directory (objects/17).
LOOSE_THRESHOLD = 2048
MAX_PACKS = 12


def estimated_loose_objects(objects_dir: str) -> int:
    try:
        return len(os.listdir(os.path.join(objects_dir, "17"))) * 256
    except FileNotFoundError:
        return 0


def count_packs(objects_dir: str) -> int:
    try:
        return sum(1 for n in os.listdir(os.path.join(objects_dir, "pack")) if n.endswith(".pack"))
    except FileNotFoundError:
        return 0


def maybe_pack(ledger: "Ledger") -> None:
    """Called after each write: cheap unless the loose objects passed the threshold."""
    if estimated_loose_objects(ledger.repo.objects) > LOOSE_THRESHOLD:
        pack(ledger, wait=False)


def pack(ledger: "Ledger", wait: bool = True, full: bool = False) -> dict[str, int]:
    """Pack loose objects; consolidate packs when there are too many (or always with `full`).

    Runs under its own lock so two processes never pack at once; with wait=False it skips when busy.
    Loose objects are deleted only after the pack holding them is complete, so a crash loses nothing.
    """
    from filelock import FileLock, Timeout

    os.makedirs(ledger.repo.private, exist_ok=True)
    lock = FileLock(os.path.join(ledger.repo.private, "maintenance.lock"))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        return {"packed": 0, "consolidated": 0}
    try:
        store = ledger.object_store
        packed = store.pack_loose_objects()
        consolidated = 0
        if full or count_packs(ledger.repo.objects) > MAX_PACKS:
            consolidated = _consolidate(store, keep_largest=not full)
        return {"packed": packed, "consolidated": consolidated}
    finally:
        lock.release()


def _consolidate(store: DiskObjectStore, keep_largest: bool) -> int:
    """Merge packs into one; with keep_largest, leave the biggest alone (a geometric repack).

    A pack is removed only once every object it holds is in the new pack, and never when it *is*
    the new pack: dulwich names packs by content, so rewriting an existing set of objects gives back
    the same name. Packs marked `.keep` or `.promisor` belong to someone else and are left alone.
    """
    packs = [p for p in store.packs if not _is_protected(p)]
    packs.sort(key=lambda p: os.path.getsize(p._data_path))
    if keep_largest:
        packs = packs[:-1]
    if len(packs) < 2:
        return 0
    objects: dict[ObjectID, ShaFile] = {}
    held: dict[str, list[ObjectID]] = {}
    for p in packs:
        ids = held[p._basename] = []
        for obj in p.iterobjects():
            objects[obj.id] = obj
            ids.append(obj.id)
    merged = store.add_objects([(obj, None) for obj in objects.values()])
    if merged is None:
        return 0
    merged_name = os.path.basename(merged._basename)
    removed = 0
    for p in packs:
        if os.path.basename(p._basename) != merged_name and all(sha in merged for sha in held[p._basename]):
            store._remove_pack(p)
            removed += 1
    return removed


def _is_protected(pack: Pack) -> bool:
    base = pack._basename
    return os.path.exists(base + ".keep") or os.path.exists(base + ".promisor")
