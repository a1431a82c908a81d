"""In-memory clustering: union-find over verified LSH candidates, canonical by a fixed rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from newswire.dedup.params import DEFAULT_PARAMS, DedupParams
from newswire.dedup.verify import is_duplicate
from newswire.ids import cluster_id
from newswire.models import Fingerprint

_LATEST = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(kw_only=True, slots=True)
class DedupItem:
    """What clustering needs of an article: its id, fingerprint and the canonical-rule dates."""

    id: str
    fingerprint: Fingerprint
    published: datetime | None = None  # a date the publisher stated (see ``stated_date``); None otherwise
    fetched_at: datetime | None = None
    source: str = ""
    url: str = ""


@dataclass(kw_only=True, slots=True)
class Cluster:
    """A set of copies: ``cluster_id`` is the canonical's id; ``members`` sorted, canonical included."""

    cluster_id: str
    canonical: str
    members: list[str] = field(default_factory=list)


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return _LATEST
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


#: Where a date must come from to count for the canonical rule: the page's metadata or the feed.
STATED_DATES = ("page", "feed")


def stated_date(published: datetime | None, date_source: str | None) -> datetime | None:
    """The publication date the canonical rule may use: only one the publisher stated.

    A date of unknown origin (a guess from the text, or a document from before ``date_source``
    was recorded) is no date here, so it can never make a copy canonical.
    """
    return published if date_source in STATED_DATES else None


def canonical_key(item: DedupItem) -> tuple[datetime, datetime, str]:
    """The fixed canonical rule: earliest stated publication date, then earliest fetched, then smallest id.

    Missing dates sort last (ties and undated copies go to the first fetched); naive
    datetimes count as UTC.
    """
    return (_utc(item.published), _utc(item.fetched_at), item.id)


class _UnionFind:
    """Disjoint sets over indices 0..n-1 (path halving, union by smaller root index)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        self.parent[max(ri, rj)] = min(ri, rj)
        return True


def candidate_buckets(items: list[DedupItem]) -> list[list[int]]:
    """Groups of item indices sharing an exact hash or an LSH band key (the in-memory LSH index)."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        if item.fingerprint.shingle_count:
            buckets["x:" + item.fingerprint.exact_hash].append(index)
        for key in item.fingerprint.band_keys:
            buckets[key].append(index)
    return [members for _, members in sorted(buckets.items()) if len(members) > 1]


def cluster(items: Iterable[DedupItem], params: DedupParams = DEFAULT_PARAMS) -> list[Cluster]:
    """Cluster items into copies; every item ends in exactly one cluster (singletons included).

    Candidates come from shared band keys or exact hashes; each candidate pair is
    verified with ``is_duplicate`` before it is merged. The partition is the set
    of connected components of verified pairs, so it does not depend on input
    order; items are sorted by id first so the work done is the same too.

    Returns:
        Clusters sorted by ``cluster_id``; each cluster's canonical follows
        ``canonical_key``.

    Raises:
        ValueError: when two items share an id.
    """
    ordered = sorted(items, key=lambda item: item.id)
    for left, right in zip(ordered, ordered[1:]):
        if left.id == right.id:
            raise ValueError(f"duplicate item id {left.id!r}")
    sets = _UnionFind(len(ordered))
    for bucket in candidate_buckets(ordered):
        for pos, i in enumerate(bucket):
            for j in bucket[pos + 1 :]:
                if sets.find(i) != sets.find(j) and is_duplicate(
                    ordered[i].fingerprint, ordered[j].fingerprint, params
                ):
                    sets.union(i, j)
    groups: dict[int, list[DedupItem]] = defaultdict(list)
    for index, item in enumerate(ordered):
        groups[sets.find(index)].append(item)
    clusters = []
    for members in groups.values():
        canonical = min(members, key=canonical_key)
        clusters.append(
            Cluster(cluster_id=cluster_id(canonical.id), canonical=canonical.id, members=sorted(m.id for m in members))
        )
    return sorted(clusters, key=lambda c: c.cluster_id)


def cluster_fields(clusters: list[Cluster], items: Iterable[DedupItem]) -> dict[str, dict]:
    """The article-document fields each member gets, keyed by article id.

    The canonical lists its copies' sources and URLs (sorted, distinct) and their
    count; a copy points at the canonical with ``duplicate_of``.
    """
    by_id = {item.id: item for item in items}
    fields: dict[str, dict] = {}
    for group in clusters:
        copies = [by_id[m] for m in group.members if m != group.canonical]
        for member in group.members:
            canonical = member == group.canonical
            fields[member] = {
                "cluster_id": group.cluster_id,
                "is_canonical": canonical,
                "duplicate_of": None if canonical else group.canonical,
                "duplicate_count": len(copies) if canonical else 0,
                "copy_sources": sorted({c.source for c in copies if c.source}) if canonical else [],
                "copy_urls": sorted({c.url for c in copies if c.url}) if canonical else [],
            }
    return fields
