"""A ledger: YAML documents on a git branch; every change is exactly one commit.

Tree layout of the ledger branch:
    ledger.yaml                        the ledger's own configuration (format, prefix, ...)
    <collection>/<fan>/<key>.yaml      one document per key; fan = first two hex digits of sha1(key)

Writers take a file lock in the common git dir for the milliseconds of one read-modify-write,
write objects, then compare-and-swap the ref (a ref moved by plain git meanwhile is retried).
Readers never lock: they read the ref and use the index (see index.py) or rebuild what changed.
Every move of the branch rewrites the change signal `.beads/last-change` (see signal.py).
"""
from __future__ import annotations

import itertools
import os
import re
import time
import zlib
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple, cast

if TYPE_CHECKING:  # the same function (the builtin module has no stubs)
    from hashlib import sha1

    from dulwich.objects import ObjectID
else:
    try:  # the builtin module: importing hashlib costs milliseconds of OpenSSL start-up on every read
        from _sha1 import sha1
    except ImportError:  # pragma: no cover
        from hashlib import sha1

from gt.patterns import lazy
from gt.errors import GtError, UsageError
from gt.ledger.gitdir import RepoPaths, append_reflog, checked_out_in, read_ref
from gt.ledger.index import Doc, Entry, IndexStore, Manifest, Shard, pack_doc
from gt.ledger.yamlio import YamlError, dump, load_mapping

CONFIG_FILE = "ledger.yaml"
KEY_RE = lazy(__name__, "KEY_RE", r"[a-z0-9][a-z0-9._-]*")  # a plain name (rig, crew, agent): also safe as a directory name
MAX_KEY_LENGTH = 200
DOC_KEY_RE = lazy(__name__, "DOC_KEY_RE", r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a document's key, its file name without `.yaml`
MAX_DOC_KEY_LENGTH = 250  # `<key>.yaml` fits a file name (255 bytes)
MAX_CAS_RETRIES = 50
FILE_MODE = 0o100644
TREE_MODE = 0o040000


READONLY = "BD_READONLY"  # set (by `bd --readonly`, or by a sandbox): nothing may be written


def require_writable(what: str = "this command") -> None:
    """Refuse in read-only mode, before anything is written."""
    if os.environ.get(READONLY, "") not in ("", "0"):
        raise GtError(f"read-only mode (bd --readonly): {what} would change the repository", code="readonly")


def fan_of(key: str) -> str:
    """The fan-out directory of a key: the first two hex digits of sha1(key)."""
    return sha1(key.encode("utf-8")).hexdigest()[:2]


def check_key(key: str) -> str:
    """Refuse names that are not plain lower-case names (a rig's, a crew member's: they become
    directories, and must not differ by case alone)."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not KEY_RE.fullmatch(key) or ".." in key:
        raise GtError(f"invalid ledger key {key!r}: use lowercase letters, digits, '.', '_' and '-'")
    return key


def check_doc_key(key: str) -> str:
    """Refuse document keys that are not plain file names (so nothing can escape the ledger tree).
    Case is kept: bead ids of the original bd may hold capitals (`gt-gastown-polecat-Toast`)."""
    if not isinstance(key, str) or len(key) > MAX_DOC_KEY_LENGTH or not DOC_KEY_RE.fullmatch(key) or ".." in key:
        shown = repr(key) if len(str(key)) <= 80 else repr(str(key)[:80]) + " …"
        raise GtError(f"invalid ledger key {shown}: use letters, digits, '.', '_' and '-' "
                      f"(at most {MAX_DOC_KEY_LENGTH})")
    return key


def document_path(collection: str, key: str) -> str:
    return f"{collection}/{fan_of(key)}/{key}.yaml"


def default_email(name: str) -> str:
    """The address of someone with none configured, as git makes one: `<name>@<host>`, the name
    with `/` as `.` (`gizmo/polecats/nux` -> `gizmo.polecats.nux@host`). Agent identities always
    have this one: their ledger writes and their code commits carry the same address."""
    local = ".".join(part for part in re.split(r"[^A-Za-z0-9_+-]+", name) if part) or "unknown"
    try:
        node = os.uname().nodename
    except (AttributeError, OSError):  # no uname (Windows)
        node = os.environ.get("COMPUTERNAME", "")
    host = ".".join(part for part in re.split(r"[^A-Za-z0-9-]+", node) if part)
    return f"{local}@{host or 'localhost'}"


class Signature(NamedTuple):
    """Who a commit is attributed to (with no email, `default_email` of the name: never `<>`)."""

    name: str
    email: str = ""

    def git_identity(self) -> bytes:
        return f"{self.name} <{self.email or default_email(self.name)}>".encode("utf-8")


class Change:  # a plain class: every bd process imports it, and a dataclass costs ~0.4 ms to define
    """What one transaction writes: documents (None deletes), optionally a new config, and the message."""

    def __init__(self, subject: str, trailers: list[tuple[str, str]] | None = None,
                 writes: dict[tuple[str, str], dict[str, Any] | None] | None = None,
                 config: dict[str, Any] | None = None, merge_parents: list[str] | None = None,
                 bulk: "Bulk | None" = None) -> None:
        self.subject = subject
        self.trailers = trailers if trailers is not None else []
        self.writes = writes if writes is not None else {}
        self.config = config
        self.merge_parents = merge_parents if merge_parents is not None else []  # further parents: a merge commit
        self.bulk = bulk  # many documents of one collection, made one fan-out directory at a time

    def put(self, collection: str, key: str, doc: dict[str, Any] | None) -> None:
        self.writes[(collection, check_doc_key(key))] = doc

    def message(self) -> bytes:
        subject = " ".join(self.subject.split())
        if len(subject) > 200:
            subject = subject[:199] + "…"
        lines = [f"{k}: {' '.join(str(v).split())}" for k, v in self.trailers]
        return (subject + "\n\n" + "\n".join(lines) + "\n").encode("utf-8")


class Bulk:  # a plain class, as Change
    """Documents of one collection written by one change (an import of 100,000), made and written one
    fan-out directory at a time: only one directory's documents, YAML texts and index records are in
    memory at once. Its blobs go into one pack as they are made; the trees, the commit and the ref
    move come at the end, as for any change.

    `documents(fan, keys, before)` yields (key, document or None to delete) for keys among `keys`
    (those of this fan-out directory, sorted); a key it does not yield is left as it is. `before`
    reads the directory's documents as the change finds them. `finish(change)` runs once every
    directory is written, before the commit message is made: it may set the subject and trailers
    from what was written. A change whose Bulk writes nothing, and that has no other writes, writes
    nothing at all (its config included). The change's other writes must not be to `collection`."""

    def __init__(self, collection: str, keys: Iterable[str],
                 documents: Callable[[str, list[str], "Directory"], Iterable[tuple[str, dict[str, Any] | None]]],
                 finish: Callable[[Change], None] | None = None) -> None:
        self.collection = collection
        self.keys = keys
        self.documents = documents
        self.finish = finish


class Directory:
    """One fan-out directory's documents as a Bulk change finds them (see View.entry and View.doc).
    Read through a shard of its own, dropped with the directory: what it decodes does not stay in memory."""

    def __init__(self, shard: Shard | None) -> None:
        self._shard = shard

    def entry(self, key: str) -> Entry | None:
        return self._shard.entry(key) if self._shard is not None else None

    def doc(self, key: str) -> dict[str, Any] | None:
        """The full document, None when absent; raises YamlError when the file is unreadable."""
        return _shard_doc(self._shard, key)


def _shard_doc(shard: Shard | None, key: str) -> dict[str, Any] | None:
    """A shard's full document, None when absent; raises YamlError when the file is unreadable."""
    if shard is None or key not in shard:
        return None
    error = shard.errors.get(key)
    if error is not None:
        raise YamlError(error)
    return shard.doc(key)


class View:
    """The ledger at one commit, read through the index. Cheap to create; loads shards on demand."""

    def __init__(self, ledger: "Ledger", manifest: Manifest | None) -> None:
        self.ledger = ledger
        self.manifest = manifest

    @property
    def commit(self) -> str | None:
        return self.manifest.commit if self.manifest else None

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest.config if self.manifest else {}

    def _fans(self, collection: str) -> dict[str, str]:
        return self.manifest.collections.get(collection, {}) if self.manifest else {}

    def _shard(self, collection: str, fan: str) -> Shard | None:
        tree_id = self._fans(collection).get(fan)
        return self.ledger._shard(collection, fan, tree_id) if tree_id else None

    def _shards(self, collection: str) -> Iterator[Shard]:
        for fan in sorted(self._fans(collection)):
            shard = self._shard(collection, fan)
            if shard is not None:
                yield shard

    def size(self, collection: str) -> int:
        """How many documents the collection holds (readable or not), read from the manifest."""
        return self.manifest.sizes.get(collection, 0) if self.manifest else 0

    def entry(self, collection: str, key: str) -> Entry | None:
        """(blob id, summary, error) of a document, or None when there is no such file."""
        shard = self._shard(collection, fan_of(key))
        return shard.entry(key) if shard else None

    def summaries(self, collection: str) -> dict[str, dict[str, Any]]:
        """Every readable document's summary (see Ledger.summarize), by key."""
        out: dict[str, dict[str, Any]] = {}
        for shard in self._shards(collection):
            out.update(shard.summaries)
        return out

    def errors(self, collection: str) -> dict[str, str]:
        """Documents that cannot be read, by key: the error names the file."""
        out: dict[str, str] = {}
        for shard in self._shards(collection):
            out.update(shard.errors)
        return out

    def doc(self, collection: str, key: str) -> dict[str, Any] | None:
        """The full document, None when absent; raises YamlError when the file is unreadable."""
        return _shard_doc(self._shard(collection, fan_of(key)), key)

    def docs(self, collection: str, keys: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Full documents for `keys` (default: all readable ones), skipping absent and unreadable ones."""
        if keys is None:
            for shard in self._shards(collection):
                yield from shard.full.values()
            return
        for key in keys:
            holder = self._shard(collection, fan_of(key))
            doc = holder.doc(key) if holder is not None else None
            if doc is not None:
                yield doc


LOCK_TIMEOUT_SECONDS = 30.0  # how long a writer waits for the lock by default (BD_LOCK_TIMEOUT)
QUIET_WAIT_SECONDS = 1.0  # a writer waiting longer for the lock says whom it waits for (on a terminal)
HOLDER_SUFFIX = ".holder"  # beside the lock: who holds it (pid, command, since when), while held


def lock_timeout() -> float:
    """Seconds a writer waits for the ledger lock: $BD_LOCK_TIMEOUT, else LOCK_TIMEOUT_SECONDS."""
    given = os.environ.get("BD_LOCK_TIMEOUT", "").strip()
    if not given:
        return LOCK_TIMEOUT_SECONDS
    try:
        value = float(given)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise UsageError(f"BD_LOCK_TIMEOUT={given!r}: give the seconds to wait for the ledger lock (a number >= 0)")
    return value


class LockHolder(NamedTuple):
    """Who holds (or last held) a writer lock, as its holder recorded it."""

    pid: int
    command: str
    since: float  # when it took the lock (seconds since the epoch)

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.since)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command}) for {self.age:.0f} s"


def read_holder(lock_path: str) -> LockHolder | None:
    """The holder record beside a lock; None when there is none or it cannot be read."""
    import json

    try:
        with open(lock_path + HOLDER_SUFFIX, encoding="utf-8") as f:
            data = json.loads(f.read(4096))
        return LockHolder(int(data["pid"]), str(data["command"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _this_command() -> str:
    import shlex
    import sys

    argv = list(sys.argv) or ["python"]
    argv[0] = "python" if argv[0] in ("-c", "-m", "") else os.path.basename(argv[0])
    command = shlex.join(argv)
    return command if len(command) <= 200 else command[:199] + "…"


class _Flock:
    """An exclusive `flock` on a file, waited for by trying every POLL_SECONDS (as the filelock package
    does, without its imports on every write); the kernel drops it when the process dies."""

    POLL_SECONDS = 0.05

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock within `timeout` seconds; False when it stayed taken."""
        import fcntl

        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    return False
                time.sleep(self.POLL_SECONDS)
                continue
            except BaseException:
                os.close(fd)
                raise
            if os.fstat(fd).st_nlink == 0:  # the file was removed meanwhile: a lock on it guards nothing
                os.close(fd)
                continue
            self.fd = fd
            return True

    def release(self) -> None:
        import fcntl

        fd, self.fd = self.fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


class WriterLock:
    """The ledger's writer lock (see Ledger.lock): while held, `<lock>.holder` says who holds it."""

    def __init__(self, path: str, timeout: float | None = None) -> None:
        self.path = path
        self.timeout = timeout  # None: lock_timeout(), read when the lock is taken
        self._lock: Any = None

    def __enter__(self) -> "WriterLock":
        if self.timeout is None:
            self.timeout = lock_timeout()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        lock = _Flock(self.path)
        started = time.monotonic()
        if not lock.acquire(min(self.timeout, QUIET_WAIT_SECONDS)):
            if self.timeout <= QUIET_WAIT_SECONDS:
                raise GtError(self._timeout_message(time.monotonic() - started), code="locked")
            from gt import progress  # longer than a write takes: say whom we wait for, then wait on

            holder = read_holder(self.path)
            progress.report(f"waiting for the ledger lock, held by {holder.describe() if holder else 'another writer'} …",
                            every=0)
            if not lock.acquire(max(0.0, self.timeout - (time.monotonic() - started))):
                raise GtError(self._timeout_message(time.monotonic() - started), code="locked")
        self._lock = lock
        try:
            self._write_holder()
        except BaseException:
            lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            os.unlink(self.path + HOLDER_SUFFIX)
        except OSError:
            pass
        self._lock.release()
        self._lock = None

    def _write_holder(self) -> None:
        import json

        record = json.dumps({"pid": os.getpid(), "command": _this_command(), "since": round(time.time(), 3)})
        fd = os.open(self.path + HOLDER_SUFFIX, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, record.encode("utf-8") + b"\n")
        finally:
            os.close(fd)

    def _timeout_message(self, waited: float) -> str:
        holder = read_holder(self.path)
        if holder is not None and holder.alive():
            who = f"has been held by {holder.describe()}"
            hint = f"; if it is stuck, stop it (kill {holder.pid}) and try again"
        else:
            who = "is held by a process that left no record"
            hint = "; try again"
        return (f"the ledger lock {self.path} {who}: gave up after waiting {waited:.0f} s "
                f"(BD_LOCK_TIMEOUT={self.timeout:g}){hint}")


class Ledger:
    """One ledger branch in one repository."""

    def __init__(
        self, repo: RepoPaths, branch: str = "beads",
        summarize: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None = None, summary_version: str = "all",
        fallback_refs: tuple[str, ...] = (),
    ) -> None:
        """`summarize(collection, key, doc)` maps a document to what list-style reads need (default: the whole
        document) and raises ValueError for a document that is not valid, which is then reported like
        one that does not parse. Change `summary_version` whenever `summarize` changes.
        `fallback_refs` are read when the branch does not exist yet (a fresh clone has only
        `origin/beads`); the first write then creates the branch on top of it."""
        self.repo = repo
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self.fallback_refs = fallback_refs
        self.summarize = summarize or (lambda collection, key, doc: doc)
        self.summary_version = summary_version
        self.index = IndexStore(repo.private, summary_version)
        self._store: Any = None

    # -- reading -------------------------------------------------------------------------------

    @property
    def object_store(self) -> Any:
        if self._store is None:
            from gt.ledger.objects import open_object_store

            self._store = open_object_store(self.repo)
        return self._store

    def local_head(self) -> str | None:
        """The branch's own commit (None before the branch exists)."""
        return read_ref(self.repo.commondir, self.ref)

    def head(self) -> str | None:
        """The commit reads see: the branch, else the first fallback ref that exists."""
        head = self.local_head()
        for ref in self.fallback_refs if head is None else ():
            head = read_ref(self.repo.commondir, ref)
            if head is not None:
                break
        return head

    def exists(self) -> bool:
        return self.head() is not None

    def view(self, commit: str | None = None) -> View:
        """The ledger at `commit` (default: the branch head), indexed."""
        commit = commit or self.head()
        if commit is None:
            return View(self, None)
        manifest = self.index.load_manifest(self.ref)
        if manifest is None or manifest.commit != commit:
            previous = manifest
            manifest = self._index_commit(commit, manifest)
            if commit == self.head():
                self._save_manifest(manifest, previous)
        return View(self, manifest)

    def _save_manifest(self, manifest: Manifest, previous: Manifest | None) -> None:
        """Make `manifest` the ref's, and drop the shards of the trees it replaced (index hygiene:
        without it every write would leave its old shard behind)."""
        self.index.save_manifest(self.ref, manifest)
        if previous is not None:
            try:
                self.index.drop_replaced(previous.trees() - manifest.trees())
            except OSError:
                pass  # the index is a cache: a shard left behind costs disk, never a wrong read

    def _read(self, sha: str) -> Any:
        return self.object_store[sha.encode("ascii")]

    def _index_commit(self, commit: str, previous: Manifest | None) -> Manifest:
        """Build the manifest of a commit, indexing only the fan-out trees the index lacks."""
        with _collecting_garbage():
            return self._index_commit_trees(commit, previous)

    def _index_commit_trees(self, commit: str, previous: Manifest | None) -> Manifest:
        root = self._read(self._read(commit).tree.decode())
        config: dict[str, Any] = {}
        config_error = None
        collections: dict[str, dict[str, str]] = {}
        for entry in root.iteritems():
            name = entry.path.decode("utf-8", "replace")
            if name == CONFIG_FILE and entry.mode != TREE_MODE:
                try:
                    config = load_mapping(self._read(entry.sha.decode()).data, f"{self.branch}:{CONFIG_FILE}")
                except YamlError as exc:
                    config_error = str(exc)
            elif entry.mode == TREE_MODE:
                fans = {}
                for fan_entry in self._read(entry.sha.decode()).iteritems():
                    if fan_entry.mode == TREE_MODE:
                        fans[fan_entry.path.decode("utf-8", "replace")] = fan_entry.sha.decode()
                collections[name] = fans
        missing = [(c, f, t) for c, fans in collections.items() for f, t in fans.items() if not self.index.has_shard(t)]
        if len(missing) >= BULK_FANS:
            self._prebuild(missing, previous)
        return self._index_fans(commit, root.id.decode(), config, config_error, collections, previous)

    def _prebuild(self, missing: list[tuple[str, str, str]], previous: Manifest | None) -> None:
        """Build many missing shards (a clone, a deleted cache) on both cores: a forked child builds
        half of them while this process builds the rest, each reading its blobs through one git
        process. The shards are files named by their trees, so nothing needs merging; whatever the
        child did not finish is built afterwards like any missing shard."""
        import threading

        child = None
        half = len(missing) // 2
        if (os.cpu_count() or 1) > 1 and hasattr(os, "fork") and threading.active_count() == 1:  # forking
            # a process with other threads could leave the child a lock that no thread will release
            try:
                child = os.fork()
            except OSError:
                child = None
            if child == 0:  # the child: the second half, quietly, then gone without any clean-up
                code = 1
                try:
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, 2)
                    self._build_many(missing[half:], previous)
                    code = 0
                finally:
                    os._exit(code)
        try:
            self._build_many(missing[:half] if child else missing, previous)
        finally:
            if child:
                os.waitpid(child, 0)

    def _build_many(self, missing: list[tuple[str, str, str]], previous: Manifest | None) -> None:
        source = self._bulk_source(missing, previous)
        try:
            for collection, fan, tree_id in missing:
                if not self.index.has_shard(tree_id):
                    self._build_shard(collection, fan, tree_id, self._previous_shard(previous, collection, fan), source)
        finally:
            if source is not None:
                source.close()

    def _index_fans(self, commit: str, tree: str, config: dict[str, Any], config_error: str | None,
                    collections: dict[str, dict[str, str]], previous: Manifest | None) -> Manifest:
        """The shards of every fan-out tree the index lacks, and the manifest with the counts."""
        sizes: dict[str, int] = {}
        for collection, fans in collections.items():
            old_fans = previous.collections.get(collection, {}) if previous else {}
            known = previous.sizes.get(collection) if previous else None
            size = known if known is not None else 0
            for fan, tree_id in fans.items():
                if known is not None and old_fans.get(fan) == tree_id:
                    continue  # the same documents as before: counted already
                old = self._shard(collection, fan, old_fans[fan]) if fan in old_fans else None
                shard = self.index.load_shard(tree_id) or self._build_shard(collection, fan, tree_id, old)
                size += len(shard) - (len(old) if known is not None and old is not None else 0)
            if known is not None:  # fans that are gone
                size -= sum(len(self._shard(collection, fan, tree)) for fan, tree in old_fans.items() if fan not in fans)
            sizes[collection] = size
        return Manifest(commit, tree, config, config_error, collections, sizes)

    def _shard(self, collection: str, fan: str, tree_id: str) -> Shard:
        shard = self.index.load_shard(tree_id)
        if shard is None:
            shard = self._build_shard(collection, fan, tree_id, None)
        return shard

    def _documents(self, tree_id: str, old: Shard | None) -> Iterator[tuple[str, str, bool]]:
        """(key, blob id, reusable from `old`) of a fan-out tree's documents, in the tree's order."""
        for item in self._read(tree_id).iteritems():
            name = item.path.decode("utf-8", "replace")
            if not name.endswith(".yaml") or item.mode == TREE_MODE:
                continue
            key, blob_id = name[: -len(".yaml")], item.sha.decode()
            yield key, blob_id, old is not None and old.blobs.get(key) == blob_id and key in old

    def _previous_shard(self, previous: Manifest | None, collection: str, fan: str) -> Shard | None:
        """The indexed shard of a fan-out directory in `previous`, to reuse its unchanged records."""
        tree = previous.collections.get(collection, {}).get(fan) if previous else None
        return self.index.load_shard(tree) if tree else None

    def _bulk_source(self, missing: list[tuple[str, str, str]], previous: Manifest | None) -> "_BlobStream | None":
        """Every blob these missing shards need, from one `git cat-file --batch` that unpacks them in
        another process while this one parses. None when they need few (dulwich reads those)."""
        plan: list[str] = []
        for collection, fan, tree_id in missing:
            old = self._previous_shard(previous, collection, fan)
            plan += [blob for _, blob, reusable in self._documents(tree_id, old) if not reusable]
        if len(plan) < BULK_BLOBS:
            return None
        from gt.ledger import git

        return _BlobStream(git.cat_blobs(self.repo.commondir, plan))

    def _build_shard(self, collection: str, fan: str, tree_id: str, old: Shard | None,
                     source: "_BlobStream | None" = None) -> Shard:
        from gt import progress

        progress.report(f"indexing the ledger: {collection}/{fan} …")
        entries: dict[str, Entry] = {}
        full: dict[str, Doc] = {}
        for key, blob_id, reusable in self._documents(tree_id, old):
            if reusable and old is not None and (kept := old.entry(key)) is not None:
                entries[key] = kept
                reused = old.raw(key)  # as stored: never decoded to be copied
                if reused is not None:
                    full[key] = reused
                continue
            data = source.take(blob_id) if source is not None else None
            if data is None:
                data = self._read(blob_id).data
            self._index_blob(entries, full, collection, fan, key, blob_id, data)
        return self.index.save_shard(tree_id, entries, full)

    def _index_blob(
        self, entries: dict[str, Entry], full: dict[str, Doc],
        collection: str, fan: str, key: str, blob_id: str, data: bytes,
    ) -> None:
        try:
            doc = load_mapping(data, f"{self.branch}:{collection}/{fan}/{key}.yaml")
        except YamlError as exc:
            entries[key] = (blob_id, None, str(exc))
            return
        try:
            summary = self.summarize(collection, key, doc)
        except ValueError as exc:  # well-formed YAML that is not a valid document
            entries[key] = (blob_id, None, f"{self.branch}:{collection}/{fan}/{key}.yaml: {exc}")
            return
        full[key] = pack_doc(doc)  # stored as it will be kept: the decoded document can go at once
        entries[key] = (blob_id, summary, None)

    # -- writing -------------------------------------------------------------------------------

    def lock(self) -> "WriterLock":
        """The writers' lock: an flock the kernel releases when its process dies, waited for at most
        `BD_LOCK_TIMEOUT` seconds (default 30) before failing with a message naming its holder.

        A 50 ms poll (filelock's default, kept by `_Flock`) measured best under 50 contending writers:
        shorter polls, backoff and kernel-side waiting all lowered throughput (see docs/performance.md).
        """
        return WriterLock(os.path.join(self.repo.private, "ledger.lock"))

    def transact(self, build: Callable[[View], Change | None], author: Signature) -> str | None:
        """Apply `build` to the current state and commit its Change atomically; returns the new commit.

        `build` may raise GtError to refuse (nothing is written) or return None to write nothing.
        It may run more than once if plain git moves the ref meanwhile, so it must not have side effects.
        """
        from gt.ledger.objects import set_ref_if_equals, open_refs

        require_writable()
        refs = open_refs(self.repo)
        self._refuse_if_checked_out()
        with self.lock():
            for _ in range(MAX_CAS_RETRIES):
                head = self.local_head()
                view = self.view(head or self.head())
                change = build(view)
                if change is None:
                    return None
                written = self._commit_objects(view, change, author)
                if written is None:  # a Bulk change that turned out to write nothing
                    return None
                commit, shards = written
                if set_ref_if_equals(refs, self.ref, head, commit, self.repo.private):
                    append_reflog(self.repo.commondir, self.ref, head, commit, author.git_identity(),
                                  " ".join(change.subject.split())[:200])
                    self._index_written(commit, view, change, shards)
                    self._moved(commit)
                    break
            else:
                raise GtError(f"could not update {self.ref}: it kept moving under us")
        from gt.ledger.maintenance import maybe_pack

        maybe_pack(self)
        return commit

    def _moved(self, commit: str) -> None:
        """The branch now points at `commit`: every successful move passes here (under the lock, so
        the signal's content follows the order of the writes). Tell the watchers (gt.ledger.signal)."""
        from gt.ledger.signal import signal

        signal(self.repo, commit)

    def _commit_objects(
        self, view: View, change: Change, author: Signature
    ) -> tuple[str, dict[tuple[str, str], _Written]] | None:
        """Write blobs, trees and the commit for `change` on top of `view`; nothing touches the ref.
        Returns the commit and what each rewritten fan-out directory holds now (for the index); None
        when the change has a Bulk that wrote nothing and no other writes (nothing is written)."""
        from dulwich.objects import Commit, ObjectID

        sink = _ObjectSink(self.object_store)
        try:
            root_entries = self._tree_entries(view.manifest.tree.encode()) if view.manifest else {}
            by_collection: dict[str, dict[str, dict[str, dict[str, Any] | None]]] = {}
            for (collection, key), doc in change.writes.items():
                by_collection.setdefault(collection, {}).setdefault(fan_of(key), {})[key] = doc
            bulk = change.bulk
            if bulk is not None and bulk.collection in by_collection:
                raise ValueError(f"a change with a Bulk of {bulk.collection} has other writes to it")
            shards: dict[tuple[str, str], _Written] = {}
            for collection in sorted(set(by_collection) | ({bulk.collection} if bulk is not None else set())):
                ckey = collection.encode()
                centries = self._tree_entries(root_entries[ckey][1]) if ckey in root_entries else {}
                for fan, docs in sorted(by_collection.get(collection, {}).items()):
                    old = view._shard(collection, fan)
                    self._write_fan(collection, fan, centries, old, iter(docs.items()), sink, shards)
                if bulk is not None and collection == bulk.collection:
                    self._write_bulk(bulk, centries, sink, shards)
                if not centries:
                    root_entries.pop(ckey, None)
                else:
                    root_entries[ckey] = (TREE_MODE, sink.add_object(_make_tree(centries)))
            if bulk is not None:
                if bulk.finish is not None:
                    bulk.finish(change)
                if not shards and not change.writes:
                    sink.abort()
                    return None
            if change.config is not None:
                root_entries[CONFIG_FILE.encode()] = (FILE_MODE, sink.add(_BLOB, dump(change.config)))
            root = _make_tree(root_entries)
            sink.add_object(root)

            commit = Commit()
            commit.tree = root.id
            commit.parents = [ObjectID(p.encode()) for p in ([view.commit] if view.commit else []) + change.merge_parents]
            commit.author = commit.committer = author.git_identity()
            commit.author_time = commit.commit_time = int(time.time())
            offset = time.localtime().tm_gmtoff
            commit.author_timezone = commit.commit_timezone = offset
            commit.message = change.message()
            sink.add_object(commit)
            sink.finish()
        except BaseException:
            sink.abort()
            raise
        return commit.id.decode(), shards

    def _write_fan(self, collection: str, fan: str, centries: dict[bytes, tuple[int, ObjectID]], old: Shard | None,
                   docs: Iterator[tuple[str, dict[str, Any] | None]], sink: "_ObjectSink",
                   shards: dict[tuple[str, str], _Written], save: IndexStore | None = None) -> None:
        """Write the documents `docs` yields into one fan-out directory (a blob each, then the
        directory's tree into `centries`) and note its index records in `shards`; nothing when it
        yields none. With `save`, the directory's shard is saved there at once instead (a Bulk)."""
        first = next(docs, None)
        if first is None:
            return
        fkey = fan.encode()
        fentries = self._tree_entries(centries[fkey][1]) if fkey in centries else {}
        entries = old.entries() if old else {}
        full = old.records() if old else {}  # the others' records, copied as stored
        for key, doc in itertools.chain((first,), docs):
            name = f"{key}.yaml".encode()
            if doc is None:
                fentries.pop(name, None)
                entries.pop(key, None)
                full.pop(key, None)
                continue
            data = dump(doc)
            blob_id = sink.add(_BLOB, data)
            fentries[name] = (FILE_MODE, blob_id)
            self._index_blob(entries, full, collection, fan, key, blob_id.decode(), data)
        before = len(old) if old is not None else 0
        if not fentries:
            centries.pop(fkey, None)
            shards[(collection, fan)] = _Written(None, before, 0, None)
            return
        tree_id = sink.add_object(_make_tree(fentries))
        centries[fkey] = (TREE_MODE, tree_id)
        if save is None:
            shards[(collection, fan)] = _Written(tree_id.decode(), before, len(entries), (entries, full))
            return
        try:
            if not save.has_shard(tree_id.decode()):
                save.save_shard(tree_id.decode(), entries, full)
        except OSError:
            pass  # the index is a cache: the next reader builds what is missing
        shards[(collection, fan)] = _Written(tree_id.decode(), before, len(entries), None)

    def _write_bulk(self, bulk: Bulk, centries: dict[bytes, tuple[int, ObjectID]], sink: "_ObjectSink",
                    shards: dict[tuple[str, str], _Written]) -> None:
        """Write a Bulk one fan-out directory at a time: its documents, blobs, tree and shard are
        made, written and dropped before the next directory's (the shard saved in the index at once:
        a file named by its tree, which is right whether or not the commit lands). Each directory's
        keys go in sorted order, the order of the shard's blocks: each block is decompressed once."""
        by_fan: dict[str, list[str]] = {}
        for key in bulk.keys:
            by_fan.setdefault(fan_of(check_doc_key(key)), []).append(key)
        with _collecting_garbage():  # documents the full YAML parser reads back leave cycles behind
            for fan, keys in sorted(by_fan.items()):
                # a store of its own for the directory: the shards it reads and writes (with whatever
                # they decode) go with it, instead of staying in the ledger's cache for the whole import
                scratch = IndexStore(self.repo.private, self.summary_version)
                fkey = fan.encode()
                old = None
                if fkey in centries and centries[fkey][0] == TREE_MODE:
                    tree_id = centries[fkey][1].decode()
                    old = scratch.load_shard(tree_id) or self._shard(bulk.collection, fan, tree_id)
                keys.sort()
                documents = _own_fan(fan, set(keys), bulk.documents(fan, keys, Directory(old)))
                self._write_fan(bulk.collection, fan, centries, old, documents, sink, shards, scratch)

    # -- history and merging --------------------------------------------------------------------

    def _refuse_if_checked_out(self) -> None:
        where = checked_out_in(self.repo.commondir, self.ref)
        if where is not None:
            raise GtError(f"the ledger branch {self.branch} is checked out in {where}: "
                          "moving it would change that work tree under its feet", code="checked_out")

    def is_ancestor(self, ancestor: str, commit: str) -> bool:
        """Whether `ancestor` is reachable from `commit` (a commit is its own ancestor)."""
        store = self.object_store
        target = ancestor.encode()
        seen: set[bytes] = set()
        pending = [commit.encode()]
        while pending:
            sha = pending.pop()
            if sha == target:
                return True
            if sha in seen:
                continue
            seen.add(sha)
            pending.extend(store[sha].parents)
        return False

    def commits_between(self, exclude: str | None, include: str) -> list[str]:
        """Commits reachable from `include` but not from `exclude`, children before parents."""
        store = self.object_store
        excluded: set[bytes] = set()
        pending = [exclude.encode()] if exclude else []
        while pending:
            sha = pending.pop()
            if sha not in excluded:
                excluded.add(sha)
                pending.extend(store[sha].parents)
        out: list[str] = []
        seen: set[bytes] = set()
        pending = [include.encode()]
        while pending:
            sha = pending.pop()
            if sha in seen or sha in excluded:
                continue
            seen.add(sha)
            out.append(sha.decode())
            pending.extend(store[sha].parents)
        return out

    def fast_forward(self, target: str) -> bool:
        """Move the branch to `target` if that loses nothing (it is missing or an ancestor of target)."""
        from gt.ledger.objects import open_refs, set_ref_if_equals

        require_writable()
        refs = open_refs(self.repo)
        self._refuse_if_checked_out()
        with self.lock():
            for _ in range(MAX_CAS_RETRIES):
                head = self.local_head()
                if head == target:
                    return True
                if head is not None and not self.is_ancestor(head, target):
                    return False
                if set_ref_if_equals(refs, self.ref, head, target, self.repo.private):
                    append_reflog(self.repo.commondir, self.ref, head, target, f"bd <{default_email('bd')}>".encode(), "fast-forward")
                    self._moved(target)
                    return True
        raise GtError(f"could not update {self.ref}: it kept moving under us")

    def diff(self, a: str | None, b: str) -> list[tuple[str, str, str | None, str | None]]:
        """Documents that differ between two commits: (collection, key, blob id in a, blob id in b).

        `a` None stands for an empty ledger. Only fan-out trees whose ids differ are opened, so the
        cost follows the size of the change. `ledger.yaml` appears as collection "" and key "ledger".
        """
        out: list[tuple[str, str, str | None, str | None]] = []
        root_a = self._tree_entries(self._read(a).tree) if a else {}
        root_b = self._tree_entries(self._read(b).tree)
        config = CONFIG_FILE.encode()
        if root_a.get(config) != root_b.get(config):
            out.append(("", "ledger", _hex(root_a.get(config)), _hex(root_b.get(config))))
        for name in sorted(set(root_a) | set(root_b)):
            ea, eb = root_a.get(name), root_b.get(name)
            if ea == eb or (ea and ea[0] != TREE_MODE) or (eb and eb[0] != TREE_MODE):
                continue
            fans_a = self._tree_entries(ea[1]) if ea else {}
            fans_b = self._tree_entries(eb[1]) if eb else {}
            for fan in sorted(set(fans_a) | set(fans_b)):
                if fans_a.get(fan) == fans_b.get(fan):
                    continue
                docs_a = self._subtree(fans_a.get(fan))
                docs_b = self._subtree(fans_b.get(fan))
                for doc in sorted(set(docs_a) | set(docs_b)):
                    if docs_a.get(doc) != docs_b.get(doc) and doc.endswith(b".yaml") and not (
                            docs_a.get(doc, (0,))[0] == TREE_MODE or docs_b.get(doc, (0,))[0] == TREE_MODE):
                        out.append((name.decode(), doc[:-5].decode(), _hex(docs_a.get(doc)), _hex(docs_b.get(doc))))
        return out

    def load(self, blob_id: str, name: str) -> dict[str, Any]:
        """Parse one document by blob id; raises YamlError naming `name` when it does not parse."""
        return load_mapping(self._read(blob_id).data, name)

    def _subtree(self, entry: tuple[int, ObjectID] | None) -> dict[bytes, tuple[int, ObjectID]]:
        """The entries of a tree entry; nothing for a missing one or a file where a tree belongs."""
        return self._tree_entries(entry[1]) if entry is not None and entry[0] == TREE_MODE else {}

    def _tree_entries(self, tree_id: bytes) -> dict[bytes, tuple[int, ObjectID]]:
        return {e.path: (e.mode, e.sha) for e in self._read(tree_id.decode()).iteritems()}

    def _index_written(self, commit: str, view: View, change: Change,
                       shards: dict[tuple[str, str], _Written]) -> None:
        """Record what we just wrote in the index, so the next reader starts warm."""
        try:
            collections = {c: dict(f) for c, f in (view.manifest.collections.items() if view.manifest else ())}
            sizes = dict(view.manifest.sizes) if view.manifest else {}
            for (collection, fan), written in shards.items():
                fans = collections.setdefault(collection, {})
                if written.tree is None:
                    fans.pop(fan, None)
                else:
                    if written.pending is not None and not self.index.has_shard(written.tree):
                        self.index.save_shard(written.tree, *written.pending)
                    fans[fan] = written.tree
                sizes[collection] = sizes.get(collection, 0) + written.after - written.before
            collections = {c: f for c, f in collections.items() if f}
            config = change.config if change.config is not None else view.config
            config_error = None if change.config is not None else (view.manifest.config_error if view.manifest else None)
            tree = self._read(commit).tree.decode()
            sizes = {c: n for c, n in sizes.items() if c in collections}
            self._save_manifest(Manifest(commit, tree, config, config_error, collections, sizes), view.manifest)
        except OSError:
            pass  # the index is a cache: the next reader rebuilds what is missing


class _Written(NamedTuple):
    """A fan-out directory a change rewrote: its new tree (None: the directory is gone), how many
    documents it held before and holds now, and its index records when its shard is still to be
    saved (once the commit has landed)."""

    tree: str | None
    before: int
    after: int
    pending: tuple[dict[str, Entry], dict[str, Doc]] | None


def _own_fan(fan: str, keys: set[str],
             docs: Iterable[tuple[str, dict[str, Any] | None]]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """A Bulk's documents for one fan-out directory, refusing any key it was not given for it."""
    for key, doc in docs:
        if key not in keys:
            raise ValueError(f"a Bulk gave {key!r}, not one of its keys in the fan-out directory {fan}")
        yield key, doc


_BLOB = 3  # git's object type numbers
_TYPE_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}


class _ObjectSink:
    """The objects of one commit, written as they are made. The first PACK_FROM are held; from then
    on every object goes into one pack, written to a temporary file (`tmp_pack_gt-*`) and moved into
    place with its index by `finish`; fewer are written as loose objects. A writer killed before
    `finish` leaves no pack, only a temporary file (which the next pack written, or `git gc`,
    removes), and the ref moves only after it: all or nothing."""

    def __init__(self, store: Any) -> None:
        from gt.ledger.objects import PACK_FROM

        self.store = store
        self.pack_from = PACK_FROM
        self.held: list[tuple[int, bytes, bytes]] = []  # (type, raw data, hex id) until there are PACK_FROM
        self.pack: _PackWriter | None = None

    def add(self, type_num: int, data: bytes) -> ObjectID:
        """Write one object (its raw data, as git hashes it); returns its hex id."""
        digest = sha1(b"%s %d\x00" % (_TYPE_NAMES[type_num], len(data)))
        digest.update(data)
        hex_id = digest.hexdigest().encode("ascii")
        if self.pack is not None:
            self.pack.add(type_num, data, digest.digest())
        else:
            self.held.append((type_num, data, hex_id))
            if len(self.held) >= self.pack_from:
                self.pack = _PackWriter(self.store)
                for held_type, held_data, held_id in self.held:
                    self.pack.add(held_type, held_data, bytes.fromhex(held_id.decode("ascii")))
                self.held = []
        return cast("ObjectID", hex_id)

    def add_object(self, obj: Any) -> ObjectID:
        """Write a dulwich object (a tree, a commit); returns its id."""
        return self.add(obj.type_num, obj.as_raw_string())

    def finish(self) -> None:
        """Make every object written visible: the pack moved in with its index, or the loose objects."""
        if self.pack is not None:
            pack, self.pack = self.pack, None
            pack.finish()
            return
        from dulwich.objects import ObjectID, ShaFile

        from gt.ledger.objects import add_objects

        held, self.held = self.held, []
        add_objects(self.store, [ShaFile.from_raw_string(t, data, ObjectID(hex_id)) for t, data, hex_id in held])

    def abort(self) -> None:
        """Drop what was written: nothing becomes visible."""
        pack, self.pack = self.pack, None
        self.held = []
        if pack is not None:
            pack.abort()


_TEMPORARY = ("tmp_pack_gt-", "tmp_idx_gt-")  # a pack and its index being written (git's prefixes: gc removes them)


class _PackWriter:
    """One pack written object by object (zlib-compressed, no deltas: `git gc` makes those later),
    then its index (version 2), both under temporary names until `finish` renames them: the pack
    first, then its index, which is what makes git and dulwich see the pack. Named as dulwich names
    packs (the SHA-1 of its sorted object ids), so writing the same objects again finds them there."""

    def __init__(self, store: Any) -> None:
        import array
        import tempfile

        self.store = store
        self.dir = store.pack_dir
        os.makedirs(self.dir, exist_ok=True)
        for name in os.listdir(self.dir):  # only a holder of the writer lock (as we are) makes these:
            if name.startswith(_TEMPORARY):  # any found was left by a writer killed before `finish`
                try:
                    os.unlink(os.path.join(self.dir, name))
                except FileNotFoundError:
                    pass
        fd, self.path = tempfile.mkstemp(dir=self.dir, prefix=_TEMPORARY[0])
        self.file = os.fdopen(fd, "w+b")
        self.file.write(b"PACK" + (2).to_bytes(4, "big") + (0).to_bytes(4, "big"))  # the count comes at the end
        self.at = 12
        self.names: list[bytes] = []  # binary object ids, in the order written
        self.seen: set[bytes] = set()
        self.offsets = array.array("Q")
        self.crcs = array.array("I")
        self.fsync = bool(getattr(store, "fsync_object_files", False))  # core.fsyncObjectFiles

    def add(self, type_num: int, data: bytes, name: bytes) -> None:
        if name in self.seen:  # the same object twice (two equal documents): once is enough
            return
        size = len(data)
        header = bytearray()
        byte = (type_num << 4) | (size & 0x0F)
        size >>= 4
        while size:
            header.append(byte | 0x80)
            byte = size & 0x7F
            size >>= 7
        header.append(byte)
        body = zlib.compress(data)
        self.file.write(header)
        self.file.write(body)
        self.seen.add(name)
        self.names.append(name)
        self.offsets.append(self.at)
        self.crcs.append(zlib.crc32(body, zlib.crc32(header)))
        self.at += len(header) + len(body)

    def finish(self) -> None:
        """Complete the pack (its object count and checksum), write its index, and move both in."""
        import tempfile

        index_path = None
        try:
            pack_sha = self._complete()
            order = sorted(range(len(self.names)), key=self.names.__getitem__)
            names = b"".join(self.names[i] for i in order)
            base = os.path.join(self.dir, "pack-" + sha1(names).hexdigest())
            if os.path.exists(base + ".pack") and os.path.exists(base + ".idx"):
                self.abort()  # these very objects are in a pack already
                return
            fd, index_path = tempfile.mkstemp(dir=self.dir, prefix=_TEMPORARY[1])
            with os.fdopen(fd, "wb") as f:
                f.write(self._index(order, names, pack_sha))
                if self.fsync:
                    f.flush()
                    os.fsync(f.fileno())
            from dulwich.file import adjust_shared_perm
            from dulwich.object_store import PACK_MODE

            for path in (self.path, index_path):
                os.chmod(path, PACK_MODE)
                adjust_shared_perm(path, getattr(self.store, "shared_perm", None))
            os.replace(self.path, base + ".pack")  # invisible until its index is there too
            os.replace(index_path, base + ".idx")
        except BaseException:
            self.abort()
            if index_path is not None:
                try:
                    os.unlink(index_path)
                except FileNotFoundError:
                    pass
            raise

    def _complete(self) -> bytes:
        """Write the object count into the header and the checksum after the objects; the checksum."""
        self.file.seek(8)
        self.file.write(len(self.names).to_bytes(4, "big"))
        self.file.flush()
        self.file.seek(0)
        checksum = sha1()
        while chunk := self.file.read(1 << 20):
            checksum.update(chunk)
        self.file.seek(0, os.SEEK_END)
        self.file.write(checksum.digest())
        self.file.flush()
        if self.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        return checksum.digest()

    def _index(self, order: list[int], names: bytes, pack_sha: bytes) -> bytes:
        """The pack's index, version 2: the objects' ids sorted, their CRC-32s and offsets."""
        import struct

        count = len(order)
        fanout = [0] * 256
        for name in self.names:
            fanout[name[0]] += 1
        for i in range(1, 256):
            fanout[i] += fanout[i - 1]
        small: list[int] = []
        large: list[int] = []  # offsets past 2 GiB
        for i in order:
            offset = self.offsets[i]
            if offset < 0x80000000:
                small.append(offset)
            else:
                small.append(0x80000000 | len(large))
                large.append(offset)
        index = b"".join([b"\xfftOc", struct.pack(">I", 2), struct.pack(">256I", *fanout), names,
                          struct.pack(f">{count}I", *(self.crcs[i] for i in order)),
                          struct.pack(f">{count}I", *small), struct.pack(f">{len(large)}Q", *large), pack_sha])
        return index + sha1(index).digest()

    def abort(self) -> None:
        """Drop the pack: its temporary file goes."""
        try:
            self.file.close()
        finally:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


BULK_FANS = 16  # missing shards from which their blobs are read through one git process
BULK_BLOBS = 2000  # ... when they need at least this many


class _BlobStream:
    """Blobs arriving in the order `_build_shard` asks for them; out of step (it never should be),
    it stops and dulwich reads the rest."""

    def __init__(self, blobs: Iterator[tuple[str, bytes]]) -> None:
        self.blobs: Iterator[tuple[str, bytes]] | None = blobs

    def take(self, blob_id: str) -> bytes | None:
        if self.blobs is None:
            return None
        from gt.errors import GtError

        try:
            found = next(self.blobs, None)
        except (GtError, OSError, ValueError):  # git could not give it: dulwich reads the rest
            found = None
        if found is None or found[0] != blob_id:
            self.close()
            return None
        return found[1]

    def close(self) -> None:
        blobs, self.blobs = self.blobs, None
        if blobs is not None and hasattr(blobs, "close"):
            blobs.close()


def _hex(entry: tuple[int, ObjectID] | None) -> str | None:
    return entry[1].decode() if entry else None


def _make_tree(entries: dict[bytes, tuple[int, ObjectID]]) -> Any:
    from dulwich.objects import Tree

    tree = Tree()
    for name, (mode, sha) in entries.items():
        tree.add(name, mode, sha)
    return tree


class _collecting_garbage:
    """Run the cyclic garbage collector while indexing even where the CLI disabled it: the YAML
    parser leaves reference cycles behind on every document, hundreds of MB at 10,000 beads."""

    def __enter__(self) -> None:
        import gc

        self.was_enabled = gc.isenabled()
        gc.enable()

    def __exit__(self, *exc: object) -> None:
        import gc

        if not self.was_enabled:
            gc.disable()
