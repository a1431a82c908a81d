"""Typed records passed between the pipeline's stages.

Each stage takes and returns these plain records, so every stage can be tested
on its own and Airflow only decides when and where the stages run. Records that
cross a process boundary (XCom, Elasticsearch) convert with ``to_dict``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def to_dict(record: Any) -> dict[str, Any]:
    """A JSON-ready dict of a dataclass record (datetimes as ISO 8601 strings)."""
    return {f.name: _jsonable(getattr(record, f.name)) for f in dataclasses.fields(record)}


@dataclass(kw_only=True, slots=True)
class Entry:
    """One item a source announces: a feed item, a sitemap URL or a local file."""

    url: str
    source: str
    title: str | None = None
    published: datetime | None = None
    summary: str | None = None
    guid: str | None = None
    path: str | None = None  # set for directory sources: the local file to read
    language: str | None = None  # the source's language hint
    site_name: str | None = None  # the outlet's name when the source knows it (directory manifest)


@dataclass(kw_only=True, slots=True)
class Page:
    """A fetched HTTP response (or a read local file), body capped at the size limit."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    truncated: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(kw_only=True, slots=True)
class Claim:
    """A check-worthy sentence of an article, with who said it."""

    text: str
    score: float
    checkworthy: bool
    sentence_index: int = 0
    speaker: str | None = None  # the fullest spelling of the speaker in the article
    speaker_key: str | None = None  # one key per speaker: titles stripped, lower case ("igor konashenkov")
    verb: str | None = None
    quote: bool = False
    numbers: list[str] = field(default_factory=list)
    embedding: list[float] | None = None  # sentence vector (newswire.claims.embedding), for claim groups


@dataclass(kw_only=True, slots=True)
class Article:
    """A cleaned article: the unit that is deduplicated, scored and indexed.

    ``quality`` is a score in [0, 1]; ``reason`` is None for an article and names
    why the page is not one otherwise ("too-short", "index-page", ...).
    """

    id: str = ""  # hash of the canonical URL; set by ``newswire.ids.article_id``
    url: str = ""
    canonical_url: str = ""
    source: str = ""
    title: str = ""
    text: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    date_source: str | None = None  # where ``published`` came from: "page" (its metadata), "feed" (the entry), None
    fetched_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    quality: float = 0.0
    reason: str | None = None
    path: str | None = None
    claims: list[Claim] = field(default_factory=list)

    @property
    def is_article(self) -> bool:
        return self.reason is None


@dataclass(kw_only=True, slots=True)
class Fingerprint:
    """What dedup knows of an article's cleaned body."""

    exact_hash: str  # hash of the normalised text: identical bodies
    minhash: list[int]  # MinHash signature over word shingles
    band_keys: list[str]  # LSH band keys, stored as keyword terms in Elasticsearch
    shingle_count: int


@dataclass(kw_only=True, slots=True)
class SourceState:
    """What one source remembers between runs; stored in Elasticsearch."""

    source: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # guards against feeds that keep their ETag after a change
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_unconditional_fetch: datetime | None = None
    consecutive_failures: int = 0
    next_allowed_fetch: datetime | None = None
    last_error: str | None = None


MAX_OUTCOME_URL = 2000
MAX_OUTCOME_DETAIL = 300


def _bounded_text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text[:limit] or None


@dataclass(kw_only=True, slots=True)
class ItemOutcome:
    """A skipped or failed item with its reason, for the run report."""

    url: str
    reason: str
    detail: str | None = None

    def __post_init__(self) -> None:
        # Stored as keyword/text fields of the run report: whatever a feed put there (an object
        # as a title, a megabyte URL) becomes a bounded string, so one item cannot fail the report.
        self.url = _bounded_text(self.url, MAX_OUTCOME_URL) or ""
        self.reason = _bounded_text(self.reason, 100) or "unknown"
        self.detail = _bounded_text(self.detail, MAX_OUTCOME_DETAIL)

    @classmethod
    def failure(cls, url: str, exc: BaseException) -> "ItemOutcome":
        """The failed outcome for ``exc``: its ``reason`` attribute (FetchError, SourceError) or its type name."""
        reason = getattr(exc, "reason", None) or type(exc).__name__
        return cls(url=url, reason=str(reason), detail=str(exc)[:300] or None)


@dataclass(kw_only=True, slots=True)
class SourceReport:
    """The outcome of one source in one run; small enough for XCom."""

    source: str
    status: str = "ok"  # ok | partial | failed | not-modified | skipped
    error: str | None = None
    seen: int = 0
    new: int = 0
    fetched: int = 0
    indexed: int = 0
    duplicates: int = 0
    claims: int = 0
    dead_lettered: int = 0  # refused documents parked in {prefix}-deadletter
    deadletter_failed: int = 0  # refused documents the dead-letter index did not take either
    stale_claims_failed: int = 0  # claims that could not be deleted (they outlive their article or claim)
    warning: str | None = None  # what an ill-formed feed was recovered from (its entries were used)
    skipped: list[ItemOutcome] = field(default_factory=list)
    failed: list[ItemOutcome] = field(default_factory=list)
    # seconds per stage: wall time of this task's thread, except extract, fingerprint, claims and
    # embed, the CPU time the workers spent on them (summed over workers)
    durations: dict[str, float] = field(default_factory=dict)
    freshness_lag_seconds: list[float] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SourceReport":
        data = dict(data)
        data["skipped"] = [ItemOutcome(**o) for o in data.get("skipped", [])]
        data["failed"] = [ItemOutcome(**o) for o in data.get("failed", [])]
        for key in ("started_at", "finished_at"):
            if isinstance(data.get(key), str):
                data[key] = datetime.fromisoformat(data[key])
        return cls(**data)


@dataclass(kw_only=True, slots=True)
class RunReport:
    """One ingestion run across all sources; written to the run-reports index."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    sources: list[SourceReport]
    merged_clusters: int = 0
