"""Bead ids: `<prefix>-<base36 hash>`, children `<parent>.<suffix>`, and resolving unique prefixes.

Length is adaptive. A new id is a uniformly random base36 string, so the chance that any two of n
beads ever share one is at most the birthday bound n^2 / (2 * 36^L). We pick the smallest L (at
least MIN_LENGTH) that keeps this bound under COLLISION_BOUND for twice the current count, which
covers clones that create as many beads offline as the ledger holds:
    beads held:  < 329   < 1,979   < 11,876   < 71,260   < 427,560
    length:        6         7          8          9          10  (characters after the prefix)
Each replica also refuses an id it already has, so a collision needs two clones offline at once.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gt.patterns import lazy
from gt.errors import GtError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

MIN_LENGTH = 6
MIN_CHILD_LENGTH = 4
COLLISION_BOUND = 1e-4
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
PREFIX_RE = lazy(__name__, "PREFIX_RE", r"[a-z0-9][a-z0-9_-]{0,31}")
# An id as the original bd accepts it (anything with a '-' after its prefix), cut down to what is safe
# as a file name in the ledger tree and as a git path component: ASCII letters of either case, digits,
# '_', '-' and '.'; a letter or digit first, a letter, digit or '_' last; no '..'; at most MAX_ID_LENGTH
# characters (the original allows 255: `<id>.yaml` must fit a file name). Case is kept: `gt-x` and
# `GT-x` are two ids.
ID_RE = lazy(__name__, "ID_RE", r"[A-Za-z0-9][A-Za-z0-9._-]*-[A-Za-z0-9._-]*[A-Za-z0-9_]")
MAX_ID_LENGTH = 250


def check_prefix(prefix: str) -> str:
    if not PREFIX_RE.fullmatch(prefix) or prefix.endswith("-"):
        raise UsageError(f"invalid prefix {prefix!r}: use lowercase letters, digits, '_' or '-' (at most 32)")
    return prefix


def prefix_from_name(name: str) -> str:
    """A prefix derived from a directory name: lowercase alphanumerics, at most 8 characters."""
    cleaned = re.sub(r"[^a-z0-9]+", "", name.lower())[:8]
    return cleaned or "bd"


def is_id(text: object) -> bool:
    """Whether `text` is a bead id (see ID_RE)."""
    return isinstance(text, str) and len(text) <= MAX_ID_LENGTH and ".." not in text and ID_RE.fullmatch(text) is not None


def check_id(bead_id: str) -> str:
    if not is_id(bead_id):
        shown = repr(bead_id) if len(str(bead_id)) <= 80 else repr(str(bead_id)[:80]) + " …"
        raise UsageError(f"invalid bead id {shown}: ids look like <prefix>-<rest>, of letters, digits, "
                         f"'_', '-' and '.' (at most {MAX_ID_LENGTH})")
    return bead_id


def id_length(count: int, minimum: int = MIN_LENGTH) -> int:
    """The shortest hash length whose birthday bound for 2*(count+1) ids is under COLLISION_BOUND."""
    n = 2 * (count + 1)
    length = minimum
    while n * n / (2 * 36**length) > COLLISION_BOUND:
        length += 1
    return length


def base36(entropy: bytes, length: int) -> str:
    """`length` base36 characters drawn from the bytes of `entropy`."""
    number = int.from_bytes(entropy, "big")
    out = []
    for _ in range(length):
        number, rest = divmod(number, 36)
        out.append(ALPHABET[rest])
    return "".join(out)


def new_id(prefix: str, count: int, entropy: bytes) -> str:
    """A fresh id for a ledger holding `count` beads; `entropy` must be at least 16 random bytes."""
    return f"{prefix}-{base36(entropy, id_length(count))}"


def child_id(parent: str, siblings: int, entropy: bytes) -> str:
    """A child id `<parent>.<suffix>`: a random suffix, never a counter (offline clones would collide)."""
    return f"{parent}.{base36(entropy, id_length(siblings, MIN_CHILD_LENGTH))}"


def resolve(query: str, ids: Collection[str], prefix: str | None = None) -> str:
    """The one id `query` names: an exact id, or a unique prefix of an id or of its part after the
    ledger's `prefix` (or, for ids of other prefixes, after their first '-').

    Case counts first: an exact id, then prefixes in the case typed. Only when nothing matches that
    way is case ignored, and then the match must still be unique (`X-Ab` and `x-ab` are both reached
    exactly, and `x-AB` names neither)."""
    query = query.strip()
    if query in ids:
        return query
    if not query:
        raise UsageError("empty bead id")
    matches = _prefix_matches(query, ids, prefix, str)
    if not matches:
        folded = sorted(i for i in ids if i.casefold() == query.casefold())
        matches = folded or _prefix_matches(query, ids, prefix, str.casefold)
    if len(matches) == 1:
        return matches[0]
    shown_query = query if len(query) <= 80 else query[:80] + " …"
    if not matches:
        raise GtError(f"no bead {shown_query}", code="not_found")
    shown = ", ".join(matches[:10]) + (f" and {len(matches) - 10} more" if len(matches) > 10 else "")
    raise GtError(f"ambiguous id {shown_query}: matches {shown}", code="ambiguous")


def _prefix_matches(query: str, ids: Collection[str], prefix: str | None, fold: Callable[[str], str]) -> list[str]:
    """Ids that start with `query`, else ids whose part after the prefix does (compared after `fold`)."""
    wanted = fold(query)
    matches = sorted(i for i in ids if fold(i).startswith(wanted))
    if not matches:
        own = f"{prefix}-" if prefix else None
        matches = sorted(
            i for i in ids
            if fold(i[len(own):] if own and i.startswith(own) else i.partition("-")[2]).startswith(wanted)
        )
    return matches
