"""The read index: a disposable cache of parsed ledger documents, keyed by git tree ids.

Layout under `<common git dir>/gt/index/<version>/`:
- `shards/<tree id>`: one per fan-out directory tree (`beads/3f`), content-addressed and immutable:
  the summaries of its documents, their blob ids and parse errors, a table of records, and the full
  documents, each compressed on its own; each part is decoded only when asked for.
- `heads/<ref>`: the manifest of the ref's last indexed commit: its tree, the ledger config and the
  tree id of every fan-out directory.

A shard is a pure function of its tree id, so it can never be stale; a manifest is used only when
its commit is the ref's current commit. Deleting the whole folder costs nothing but speed.
"""
from __future__ import annotations

import marshal
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any, TypeAlias

INDEX_VERSION = "v5"  # v5: sections decoded on demand, each full document compressed on its own

Entry = tuple[str, "dict[str, Any] | None", "str | None"]  # (blob id, summary, error)
Doc: TypeAlias = "dict[str, Any] | bytes"  # a full document, or its record as stored (compressed marshal)
MAGIC = b"GTS5"


def pack_doc(doc: dict[str, Any]) -> bytes:
    """A full document as a shard stores it: marshal, compressed (the index stays near the pack's size)."""
    return zlib.compress(marshal.dumps(doc), 1)


class Shard:
    """One fan-out directory's documents, as the bytes of its file. Each part is decoded only when
    asked for: list-style reads need the summaries alone, `show` one full document, and a write
    copies the stored records of the documents it does not change without decoding them."""

    def __init__(self, data: bytes) -> None:
        if data[:4] != MAGIC:
            raise ValueError("not a shard of this index version")
        sizes = struct.unpack_from("<III", data, 4)
        self._data = memoryview(data)
        start = 16
        self._spans = []
        for size in sizes:
            self._spans.append((start, start + size))
            start += size
        self._records_at = start
        if start > len(data):
            raise ValueError("a shard cut short")
        self._summaries: dict[str, dict[str, Any]] | None = None
        self._meta: tuple[dict[str, str], dict[str, str]] | None = None
        self._table: dict[str, tuple[int, int]] | None = None
        self._docs: dict[str, dict[str, Any]] = {}

    def _section(self, number: int) -> Any:
        begin, end = self._spans[number]
        return marshal.loads(self._data[begin:end])

    @property
    def summaries(self) -> dict[str, dict[str, Any]]:
        if self._summaries is None:
            self._summaries = self._section(0)
        return self._summaries

    @property
    def blobs(self) -> dict[str, str]:
        return self._unpacked_meta()[0]

    @property
    def errors(self) -> dict[str, str]:
        return self._unpacked_meta()[1]

    def _unpacked_meta(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._meta is None:
            self._meta = self._section(1)
        return self._meta

    def _records(self) -> dict[str, tuple[int, int]]:
        if self._table is None:
            self._table = self._section(2)
        return self._table

    def raw(self, key: str) -> bytes | None:
        """The stored record of one full document (see pack_doc), None when absent or unreadable."""
        span = self._records().get(key)
        if span is None:
            return None
        begin = self._records_at + span[0]
        return bytes(self._data[begin:begin + span[1]])

    def doc(self, key: str) -> dict[str, Any] | None:
        """One full document (None when absent or unreadable), decoded on first use."""
        found = self._docs.get(key)
        if found is None:
            record = self.raw(key)
            if record is None:
                return None
            found = self._docs[key] = marshal.loads(zlib.decompress(record))
        return found

    @property
    def full(self) -> dict[str, dict[str, Any]]:
        """Every readable full document, by key."""
        return {key: doc for key in self._records() if (doc := self.doc(key)) is not None}

    def __contains__(self, key: str) -> bool:
        return key in self.summaries or key in self.errors

    def entry(self, key: str) -> Entry | None:
        if key not in self:
            return None
        return (self.blobs[key], self.summaries.get(key), self.errors.get(key))

    def __len__(self) -> int:
        return len(self.blobs)

    def entries(self) -> dict[str, Entry]:
        return {k: (blob, self.summaries.get(k), self.errors.get(k)) for k, blob in self.blobs.items()}

    def records(self) -> dict[str, Doc]:
        """Every readable full document as its stored record (to build the next shard from)."""
        return {key: record for key in self._records() if (record := self.raw(key)) is not None}

    @classmethod
    def build(cls, entries: dict[str, Entry], full: dict[str, Doc]) -> "Shard":
        """A shard of these entries and full documents (each a document, or a record from `raw`)."""
        summaries = {k: e[1] for k, e in entries.items() if e[1] is not None}
        meta = ({k: e[0] for k, e in entries.items()}, {k: e[2] for k, e in entries.items() if e[2] is not None})
        table: dict[str, tuple[int, int]] = {}
        records = []
        at = 0
        for key, doc in full.items():
            record = doc if isinstance(doc, bytes) else pack_doc(doc)
            table[key] = (at, len(record))
            records.append(record)
            at += len(record)
        sections = [marshal.dumps(summaries), marshal.dumps(meta), marshal.dumps(table)]
        data = b"".join([MAGIC, struct.pack("<III", *(len(x) for x in sections)), *sections, *records])
        shard = cls(data)
        shard._summaries, shard._meta, shard._table = summaries, meta, table
        return shard  # the documents are not kept decoded: an import of 100,000 would hold them all

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Shard":
        return cls(data)


@dataclass
class Manifest:
    commit: str
    tree: str
    config: dict[str, Any]
    config_error: str | None
    collections: dict[str, dict[str, str]]  # collection -> fan -> tree id
    sizes: dict[str, int]  # collection -> documents (readable or not): a count without reading a shard

    def trees(self) -> set[str]:
        """The tree id of every fan-out directory it names: the shards it reads."""
        return {tree for fans in self.collections.values() for tree in fans.values()}

    def to_bytes(self) -> bytes:
        return marshal.dumps((self.commit, self.tree, self.config, self.config_error, self.collections, self.sizes))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Manifest":
        return cls(*marshal.loads(data))


def write_atomic(path: str, data: bytes, make_dirs: bool = True) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    directory = os.path.dirname(path) or "."
    if make_dirs:
        os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class IndexStore:
    """Reads and writes shards and manifests for one repository."""

    def __init__(self, private_dir: str, summary_version: str) -> None:
        self.root = os.path.join(private_dir, "index", f"{INDEX_VERSION}-{summary_version}")
        self._shards: dict[str, Shard] = {}

    def _manifest_path(self, ref: str) -> str:
        return os.path.join(self.root, "heads", ref.replace("/", "%"))

    def _shard_path(self, tree_id: str) -> str:
        return os.path.join(self.root, "shards", tree_id)

    def load_manifest(self, ref: str) -> Manifest | None:
        try:
            with open(self._manifest_path(ref), "rb") as f:
                return Manifest.from_bytes(f.read())
        except (FileNotFoundError, ValueError, EOFError, TypeError):
            return None

    def save_manifest(self, ref: str, manifest: Manifest) -> None:
        write_atomic(self._manifest_path(ref), manifest.to_bytes())

    def has_shard(self, tree_id: str) -> bool:
        return tree_id in self._shards or os.path.exists(self._shard_path(tree_id))

    def load_shard(self, tree_id: str) -> Shard | None:
        shard = self._shards.get(tree_id)
        if shard is None:
            try:
                with open(self._shard_path(tree_id), "rb") as f:
                    shard = Shard.from_bytes(f.read())
            except (FileNotFoundError, ValueError, EOFError, TypeError, struct.error):
                return None
            self._shards[tree_id] = shard
        return shard

    def save_shard(self, tree_id: str, entries: dict[str, Entry], full: dict[str, Doc]) -> Shard:
        shard = Shard.build(entries, full)
        write_atomic(self._shard_path(tree_id), shard.to_bytes())
        self._shards[tree_id] = shard
        return shard

    def manifests(self) -> list[Manifest]:
        """The saved manifest of every ref this index knows (two ledgers of a repository share it)."""
        folder = os.path.join(self.root, "heads")
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            if not name.startswith("."):
                try:
                    with open(os.path.join(folder, name), "rb") as f:
                        found.append(Manifest.from_bytes(f.read()))
                except (OSError, ValueError, EOFError, TypeError):
                    continue
        return found

    def drop_replaced(self, replaced: set[str]) -> int:
        """Delete the shards of `replaced` trees that no saved manifest uses any more (a write or a
        sync replaced them); returns how many went. A reader still holding an older manifest
        rebuilds a shard it misses, so this never changes what anyone reads."""
        if not replaced:
            return 0
        used = {tree for manifest in self.manifests() for tree in manifest.trees()}
        removed = 0
        for tree_id in replaced - used:
            self._shards.pop(tree_id, None)
            try:
                os.unlink(self._shard_path(tree_id))
                removed += 1
            except OSError:
                pass
        return removed

    def prune(self, keep_trees: set[str]) -> int:
        """Delete shards not in `keep_trees`; returns how many were removed."""
        removed = 0
        shard_dir = os.path.join(self.root, "shards")
        try:
            names = os.listdir(shard_dir)
        except FileNotFoundError:
            return 0
        for name in names:
            if name not in keep_trees:
                try:
                    os.unlink(os.path.join(shard_dir, name))
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed
