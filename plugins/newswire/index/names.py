"""Index and alias names: every index lives behind an alias, ``{prefix}-{kind}``.

Readers and writers only ever use the alias; the alias points at one versioned
index ``{prefix}-{kind}-v{N}``, so a mapping change is a new index plus an atomic
alias swap (see ``newswire.index.reindex``).
"""

from __future__ import annotations

import re

#: The indices newswire keeps, and the version of each one's mapping. Bump a
#: version when its mapping changes incompatibly, then run ``newswire reindex``.
MAPPING_VERSIONS: dict[str, int] = {
    "articles": 1,
    "claims": 2,  # 2: embedding and claim-group fields
    "sources": 1,
    "runs": 1,
    "deadletter": 1,
    "outcomes": 1,
}
KINDS: tuple[str, ...] = tuple(MAPPING_VERSIONS)
DEFAULT_PREFIX = "newswire"

_VERSIONED = re.compile(r"^(?P<alias>.+)-v(?P<version>\d+)$")


def alias(prefix: str, kind: str) -> str:
    """The alias every reader and writer uses, e.g. ``newswire-articles``."""
    if kind not in MAPPING_VERSIONS:
        raise ValueError(f"unknown index kind {kind!r}; expected one of {', '.join(KINDS)}")
    return f"{prefix}-{kind}"


def versioned(prefix: str, kind: str, version: int) -> str:
    """A concrete index name, e.g. ``newswire-articles-v1``."""
    return f"{alias(prefix, kind)}-v{version}"


def version_of(index: str) -> int:
    """The version number of a concrete index name (``...-v3`` -> 3)."""
    match = _VERSIONED.match(index)
    if not match:
        raise ValueError(f"{index!r} is not a versioned newswire index (expected a -v<N> suffix)")
    return int(match.group("version"))
