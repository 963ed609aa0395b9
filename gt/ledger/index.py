"""The read index: a disposable cache of parsed ledger documents, keyed by git tree ids.

Layout under `<common git dir>/gt/index/<version>/`:
- `shards/<tree id>`: one per fan-out directory tree (`beads/3f`), content-addressed and immutable:
  the summaries of its documents, their blob ids and parse errors, where each full document lies,
  and the full documents compressed in blocks of up to 32 neighbours (per-document compression
  left the index larger than the pack); each part is decoded only when asked for.
- `heads/<ref>`: the manifest of the ref's last indexed commit: its tree, the ledger config and the
  tree id of every fan-out directory.

A shard's contents are a pure function of its tree id (how its blocks fall depends on the writes
that made it), so it can never be stale; a manifest is used only when
its commit is the ref's current commit. Deleting the whole folder costs nothing but speed.
"""
from __future__ import annotations

import array
import bisect
import marshal
import os
import struct
import sys
import zlib
from collections import Counter
from typing import Any, NamedTuple, TypeAlias

INDEX_VERSION = "v6"  # v6: every section compressed; full documents compressed in blocks of neighbours

Entry = tuple[str, "dict[str, Any] | None", "str | None"]  # (blob id, summary, error)
MAGIC = b"GTS7"  # the layout below (GTS6 was a first try at v6)
BLOCK_DOCS = 32  # full documents compressed together: about the pack's ratio, and one read stays cheap
BLOCK_BYTES = 16384  # nor more than this many bytes of them before compression


class Kept(NamedTuple):
    """A full document left where it is in a shard's block, to be copied into the next shard
    without being decoded (see Shard.build)."""

    shard: "Shard"
    block: int


Doc: TypeAlias = "dict[str, Any] | bytes | Kept"  # a full document, its marshal bytes, or one to copy
DIRECTORY = 1  # the section of the keys and where their documents lie
NO_BLOCK = -1  # the block of a document that has no full document (it cannot be read)


def pack_doc(doc: dict[str, Any]) -> bytes:
    """A full document as a shard's block holds it (its marshal bytes): an import keeps these
    instead of the decoded documents, which take several times the memory."""
    return marshal.dumps(doc)


class _Positions:
    """key -> position in a shard's sorted keys, by bisection (no dict to build for one lookup)."""

    __slots__ = ("keys",)

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys

    def get(self, key: str) -> int | None:
        i = bisect.bisect_left(self.keys, key)
        return i if i < len(self.keys) and self.keys[i] == key else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: str) -> int:
        i = self.get(key)
        if i is None:
            raise KeyError(key)
        return i


def _ints(data: bytes) -> array.array[int]:
    numbers = array.array("i")
    numbers.frombytes(data)
    return numbers


class Shard:
    """One fan-out directory's documents, as the bytes of its file. Each part is decoded only when
    asked for: list-style reads need the summaries alone, `show` the directory and one block of
    full documents, and a write copies the blocks whose documents it does not change without
    decoding them.

    The file: MAGIC, the sizes of three sections, the sections, then the blocks. Each section is a
    marshal: the summaries (in the keys' order, None for a document that cannot be read); the
    directory, not compressed (the byte order, the sorted keys, and as machine ints each key's
    block, offset and length in the decompressed block, and each block's offset and length in the
    file); the blob ids (20 bytes each, in the keys' order) and the parse errors. The first and the
    last are compressed. Each block is the compressed marshal bytes of up to BLOCK_DOCS documents."""

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
        self._blocks_at = start
        if start > len(data):
            raise ValueError("a shard cut short")
        self._summaries: dict[str, dict[str, Any]] | None = None
        self._directory: tuple[tuple[str, ...], _Positions, array.array[int], array.array[int]] | None = None
        self._meta: tuple[bytes, dict[str, str]] | None = None
        self._plain: tuple[int, bytes] = (-1, b"")  # the last block decompressed (reads go block by block)
        self._docs: dict[str, dict[str, Any]] = {}

    def _section(self, number: int) -> Any:
        begin, end = self._spans[number]
        try:  # the directory is read by every lookup: kept uncompressed, it costs a quarter
            return marshal.loads(self._data[begin:end] if number == DIRECTORY else zlib.decompress(self._data[begin:end]))
        except zlib.error as exc:  # a damaged file reads as one that marshal cannot decode
            raise ValueError(f"a damaged shard: {exc}") from None

    @property
    def summaries(self) -> dict[str, dict[str, Any]]:
        if self._summaries is None:
            self._summaries = {k: s for k, s in zip(self._dir()[0], self._section(0)) if s is not None}
        return self._summaries

    def _dir(self) -> tuple[tuple[str, ...], _Positions, array.array[int], array.array[int]]:
        """(keys in order, key -> position, [block, offset, length] per position, [offset, length] per block)."""
        if self._directory is None:
            order, keys, places, blocks = self._section(DIRECTORY)
            if order != sys.byteorder:
                raise ValueError("a shard written on a machine of the other byte order")
            self._directory = (keys, _Positions(keys), _ints(places), _ints(blocks))
        return self._directory

    def _unpacked_meta(self) -> tuple[bytes, dict[str, str]]:
        if self._meta is None:
            self._meta = self._section(2)
        return self._meta

    @property
    def blobs(self) -> dict[str, str]:
        ids = self._unpacked_meta()[0]
        return {key: ids[20 * i:20 * i + 20].hex() for i, key in enumerate(self._dir()[0])}

    @property
    def errors(self) -> dict[str, str]:
        return self._unpacked_meta()[1]

    def _block_of(self, key: str) -> int:
        keys, at, places, _ = self._dir()
        i = at.get(key)
        return NO_BLOCK if i is None else places[3 * i]

    def _block(self, number: int) -> bytes:
        if self._plain[0] != number:
            blocks = self._dir()[3]
            begin, length = blocks[2 * number], blocks[2 * number + 1]
            at = self._blocks_at + begin
            self._plain = (number, zlib.decompress(self._data[at:at + length]))
        return self._plain[1]

    def _record(self, key: str) -> bytes | None:
        """The marshal bytes of one full document, None when absent or unreadable."""
        _, at, places, _ = self._dir()
        i = at.get(key)
        if i is None or places[3 * i] == NO_BLOCK:
            return None
        try:
            block = self._block(places[3 * i])
        except (zlib.error, IndexError):
            return None
        return block[places[3 * i + 1]:places[3 * i + 1] + places[3 * i + 2]]

    def raw(self, key: str) -> Kept | None:
        """One full document to copy into the next shard as it is (None when absent)."""
        block = self._block_of(key)
        return Kept(self, block) if block != NO_BLOCK else None

    def doc(self, key: str) -> dict[str, Any] | None:
        """One full document (None when absent or unreadable), decoded on first use."""
        found = self._docs.get(key)
        if found is None:
            record = self._record(key)
            if record is None:
                return None
            try:
                found = self._docs[key] = marshal.loads(record)
            except (ValueError, EOFError, TypeError):
                return None
        return found

    @property
    def full(self) -> dict[str, dict[str, Any]]:
        """Every readable full document, by key."""
        return {key: doc for key in self._dir()[0] if (doc := self.doc(key)) is not None}

    def __contains__(self, key: str) -> bool:
        return key in self._dir()[1]

    def entry(self, key: str) -> Entry | None:
        i = self._dir()[1].get(key)
        if i is None:
            return None
        ids, errors = self._unpacked_meta()
        return (ids[20 * i:20 * i + 20].hex(), self.summaries.get(key), errors.get(key))

    def __len__(self) -> int:
        return len(self._dir()[0])

    def entries(self) -> dict[str, Entry]:
        summaries, errors = self.summaries, self.errors
        return {k: (blob, summaries.get(k), errors.get(k)) for k, blob in self.blobs.items()}

    def records(self) -> dict[str, Doc]:
        """Every full document, to be copied as it is into the next shard (see `raw`)."""
        keys, _, places, _ = self._dir()
        return {key: Kept(self, places[3 * i]) for i, key in enumerate(keys) if places[3 * i] != NO_BLOCK}

    @classmethod
    def build(cls, entries: dict[str, Entry], full: dict[str, Doc]) -> "Shard":
        """A shard of these entries and full documents (each a document, its pack_doc bytes, or one
        Kept from the shard before). A block of the shard before whose documents are all kept is
        copied as it is; the rest are packed into new blocks."""
        kept: dict[tuple[int, int], list[str]] = {}
        sources: dict[int, Shard] = {}
        loose: dict[str, bytes] = {}
        for key, doc in full.items():
            if isinstance(doc, Kept):
                sources[id(doc.shard)] = doc.shard
                kept.setdefault((id(doc.shard), doc.block), []).append(key)
            else:
                loose[key] = doc if isinstance(doc, bytes) else pack_doc(doc)
        where: dict[str, tuple[int, int, int]] = {}
        spans: list[int] = []
        blocks: list[bytes] = []
        at = 0

        def add_block(compressed: bytes, places: dict[str, tuple[int, int]]) -> None:
            nonlocal at
            for key, (offset, length) in places.items():
                where[key] = (len(spans) // 2, offset, length)
            spans.extend((at, len(compressed)))
            blocks.append(compressed)
            at += len(compressed)

        sizes = {source: Counter(shard._dir()[2][0::3]) for source, shard in sources.items()}
        for (source, number), keys in kept.items():
            shard = sources[source]
            # every document of the block stays: copied as stored (a small block is packed again with
            # the new documents, so that writes one at a time do not leave blocks of one)
            if sizes[source][number] == len(keys) and (len(keys) >= BLOCK_DOCS // 2 or not loose):
                _, position, places, old_blocks = shard._dir()
                begin, length = old_blocks[2 * number], old_blocks[2 * number + 1]
                add_block(bytes(shard._data[shard._blocks_at + begin:shard._blocks_at + begin + length]),
                          {k: (places[3 * position[k] + 1], places[3 * position[k] + 2]) for k in keys})
                continue
            for key in keys:  # some went or changed: the others are packed again with the new ones
                record = shard._record(key)
                if record is not None:
                    loose[key] = record
        batch: list[tuple[str, bytes]] = []
        size = 0

        def flush() -> None:
            nonlocal size
            places, offset = {}, 0
            for key, record in batch:
                places[key] = (offset, len(record))
                offset += len(record)
            add_block(zlib.compress(b"".join(record for _, record in batch), 6), places)
            batch.clear()
            size = 0

        for key, record in sorted(loose.items()):  # neighbours by id: the pack's order, and its ratio
            if batch and (len(batch) >= BLOCK_DOCS or size + len(record) > BLOCK_BYTES):
                flush()
            batch.append((key, record))
            size += len(record)
        if batch:
            flush()
        order = tuple(sorted(entries))
        places = array.array("i", [n for key in order for n in where.get(key, (NO_BLOCK, 0, 0))])
        summaries = {k: e[1] for k, e in entries.items() if e[1] is not None}
        errors = {k: e[2] for k, e in entries.items() if e[2] is not None}
        ids = b"".join(bytes.fromhex(entries[k][0]) for k in order)
        sections = [zlib.compress(marshal.dumps([summaries.get(k) for k in order]), 6),
                    marshal.dumps((sys.byteorder, order, places.tobytes(), array.array("i", spans).tobytes())),
                    zlib.compress(marshal.dumps((ids, errors)), 6)]
        data = b"".join([MAGIC, struct.pack("<III", *(len(x) for x in sections)), *sections, *blocks])
        shard = cls(data)
        shard._summaries = summaries
        return shard  # the documents are not kept decoded: an import of 100,000 would hold them all

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Shard":
        return cls(data)


class Manifest:  # a plain class: every bd process imports it, and a dataclass costs ~0.4 ms to define
    """What the index knows of one commit of a ref: its tree, the ledger config and every shard."""

    def __init__(self, commit: str, tree: str, config: dict[str, Any], config_error: str | None,
                 collections: dict[str, dict[str, str]], sizes: dict[str, int]) -> None:
        self.commit = commit
        self.tree = tree
        self.config = config
        self.config_error = config_error
        self.collections = collections  # collection -> fan -> tree id
        self.sizes = sizes  # collection -> documents (readable or not): a count without reading a shard

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifest) and self.to_bytes() == other.to_bytes()

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
