"""The ledger guard: a bare repository's pre-receive hook refuses pushes that would harm its ledger.

Refused: deleting the ledger branch, rewriting its history (not a fast-forward), and any new commit
with a ledger file, in any collection, that the reader would refuse (larger, deeper or with more
values than gt.ledger.yamlio allows, anchors or aliases, not YAML) or that breaks its collection's
schema (gt.model.schema: beads, rigs, agents, ledger.yaml, and generic rules for any other
collection). Each problem names the commit, the file and the reason; a commit the guard cannot check
is refused too, with the reason, never with a traceback.
Run by git as `python -m gt.githooks pre-receive` (gt/githooks/__main__.py) with the ref updates on stdin.
"""
from __future__ import annotations

import os
import subprocess
import sys

from gt.ledger.gitdir import ZERO, discover
from gt.ledger.store import CONFIG_FILE, Ledger, document_path
from gt.ledger.yamlio import YamlError
from gt.model.schema import COLLECTION_RE, config_problems, document_problems

USER_HOOK_SUFFIX = ".user"  # a hook the repository had before ours: run after our checks


def check_update(ledger: Ledger, old: str, new: str) -> list[str]:
    """Problems with moving the ledger branch from `old` to `new` (all-zero ids: absent)."""
    if new == ZERO:
        return [f"refusing to delete the ledger branch {ledger.ref}"]
    if old != ZERO and not ledger.is_ancestor(old, new):
        return [f"refusing a non-fast-forward push to {ledger.ref}: it would rewrite the ledger's history"]
    found: list[str] = []
    for commit in ledger.commits_between(None if old == ZERO else old, new):
        try:
            parents = ledger.object_store[commit.encode()].parents
            base = parents[0].decode() if parents else None
            found += check_commit(ledger, base, commit)
        except Exception as exc:  # a commit we cannot read is refused with the reason, not a traceback
            found.append(f"{commit[:9]}: cannot be checked: {type(exc).__name__}: {exc}"[:500])
        if len(found) >= 20:
            break
    return found


def check_shape(ledger: Ledger, parent: str | None, commit: str) -> list[str]:
    """The tree must stay a ledger: `ledger.yaml` a file, each collection a tree of two-hex-digit
    fan-out trees, each document a `<key>.yaml` file in the fan its key hashes to. Only the parts
    that differ from the parent are walked."""
    from gt.ledger.store import TREE_MODE, fan_of

    short = commit[:9]
    found = []
    root = ledger._tree_entries(ledger.object_store[commit.encode()].tree)
    before = ledger._subtree((TREE_MODE, ledger.object_store[parent.encode()].tree)) if parent else {}
    config = CONFIG_FILE.encode()
    if config not in root or root[config][0] == TREE_MODE:
        found.append(f"{short}: {CONFIG_FILE} is missing: the branch would no longer be a ledger")
    for name, entry in root.items():
        if name == config or before.get(name) == entry:
            continue
        where = name.decode("utf-8", "replace")
        if entry[0] != TREE_MODE:
            found.append(f"{short}: {where}: a file where a collection folder belongs")
            continue
        if not COLLECTION_RE.fullmatch(where):
            found.append(f"{short}: {where}/: not a collection name (lowercase letters, digits, '_', '-')")
            continue
        old_fans = ledger._subtree(before.get(name))
        for fan, fan_entry in ledger._tree_entries(entry[1]).items():
            if old_fans.get(fan) == fan_entry:
                continue
            fan_name = fan.decode("utf-8", "replace")
            if fan_entry[0] != TREE_MODE or len(fan_name) != 2 or any(c not in "0123456789abcdef" for c in fan_name):
                found.append(f"{short}: {where}/{fan_name}: not a fan-out folder (two hex digits)")
                continue
            for doc, doc_entry in ledger._tree_entries(fan_entry[1]).items():
                doc_name = doc.decode("utf-8", "replace")
                key = doc_name[:-5] if doc_name.endswith(".yaml") else None
                if doc_entry[0] == TREE_MODE or key is None:
                    continue  # other files and folders are ignored by readers
                if fan_of(key) != fan_name:
                    found.append(f"{short}: {where}/{fan_name}/{doc_name}: belongs in {where}/{fan_of(key)}/")
    return found


def check_commit(ledger: Ledger, parent: str | None, commit: str) -> list[str]:
    found = check_shape(ledger, parent, commit)
    short = commit[:9]
    for collection, key, _, blob in ledger.diff(parent, commit):
        if blob is None:
            continue
        name = CONFIG_FILE if collection == "" else document_path(collection, key)
        try:
            doc = ledger.load(blob, name)
        except YamlError as exc:
            found.append(f"{short}: {exc}")
            continue
        if collection == "":
            found += [f"{short}: {name}: {problem}" for problem in config_problems(doc)]
        else:
            found += [f"{short}: {name}: {problem}" for problem in document_problems(collection, key, doc)]
    return found


def main() -> int:
    """The pre-receive hook: reads `<old> <new> <ref>` lines, refuses (exit 1) with reasons on stderr."""
    lines = sys.stdin.read()
    repo = discover()
    branch = os.environ.get("BD_LEDGER_BRANCH", "beads")
    ledger = Ledger(repo, branch)
    found: list[str] = []
    for line in lines.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == ledger.ref:
            try:
                found += check_update(ledger, parts[0], parts[1])
            except Exception as exc:  # refuse with a reason, never with a traceback
                found.append(f"the push cannot be checked: {type(exc).__name__}: {exc}"[:500])
    if found:
        print("ledger guard: push refused", file=sys.stderr)
        for problem in found[:20]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    user_hook = os.path.join(repo.commondir, "hooks", "pre-receive" + USER_HOOK_SUFFIX)
    if os.access(user_hook, os.X_OK):
        return subprocess.run([user_hook], input=lines, text=True).returncode
    return 0
