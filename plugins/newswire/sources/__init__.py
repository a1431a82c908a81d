"""One configured source to the entries it announces now, plus its updated state.

:func:`discover` is pure with respect to storage: it takes the source's last
:class:`~newswire.models.SourceState` and returns the next one; the caller loads and saves it
(``newswire.index.state``). Save ``new_state`` only once the batch's articles are safely indexed:
a 304 on the next run would otherwise hide items a failed run never stored.

Incremental fetching of feeds and sitemaps:

- a conditional GET (``If-None-Match`` / ``If-Modified-Since``) with the stored validators; a
  304 means ``not_modified`` and no entries;
- the stale-validator guard: some servers keep answering 304 (or the same ETag) after the
  content changed, so once ``unconditional_after`` has passed since the last unconditional
  fetch the validators are left out; and any 200 whose body hashes to the stored ``body_hash``
  is treated as not modified too.

Failures never raise: the returned Discovery carries ``error`` (a short reason), the failure
count grows, and ``next_allowed_fetch`` backs off exponentially (``failure_backoff`` doubling up
to ``max_failure_backoff``, or longer if the server's Retry-After asked for it). Announced URLs
with a scheme other than http(s), that no HTTP client can send (``bad-url``), or pointing at
private/loopback/link-local/metadata addresses outside the source's ``allowed_networks``, are
refused one by one and reported in ``errors``; the rest of the source goes on.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from newswire.config import SourceConfig
from newswire.fetch import Fetcher, FetchError, screen_url
from newswire.models import Entry, ItemOutcome, SourceState
from newswire.sources.directory import DirectoryError, list_directory, read_entry
from newswire.sources.feed import FeedError, parse_feed
from newswire.sources.sitemap import SitemapError, parse_sitemap
from newswire.urls import canonicalize

__all__ = ["Discovery", "discover", "read_entry", "MAX_CHILD_SITEMAPS"]

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_CHILD_SITEMAPS = 10  # newest children of a sitemap index read per run


@dataclass(kw_only=True, slots=True)
class Discovery:
    """What one source announced in one run."""

    source: str
    entries: list[Entry] = field(default_factory=list)  # newest first, at most max_items, unique canonical URLs
    new_state: SourceState
    not_modified: bool = False  # 304, or the same body as last time
    errors: list[ItemOutcome] = field(default_factory=list)  # refused/unusable items, and the source failure
    error: str | None = None  # reason when the source as a whole failed this run
    skipped: str | None = None  # "disabled" or "backoff": nothing was requested
    seen: int = 0  # items announced, before screening and the max_items cut
    warning: str | None = None  # what an ill-formed feed was recovered from (its entries are still used)
    duration: float = 0.0  # seconds

    @property
    def failed(self) -> bool:
        return self.error is not None


def _hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _backoff(source: SourceConfig, failures: int, retry_after: float | None) -> timedelta:
    wait = min(source.failure_backoff * (2 ** max(failures - 1, 0)), source.max_failure_backoff)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


def _full_read_due(source: SourceConfig, state: SourceState, now: datetime) -> bool:
    """Whether ``unconditional_after`` has passed since the last unconditional read (or there was none)."""
    last = state.last_unconditional_fetch
    return last is None or now - last >= source.unconditional_after


def _conditional(source: SourceConfig, state: SourceState, now: datetime) -> bool:
    """Send validators only if there are some and no unconditional fetch is due."""
    return bool(state.etag or state.last_modified) and not _full_read_due(source, state, now)


def _select(source: SourceConfig, entries: list[Entry]) -> tuple[list[Entry], list[ItemOutcome]]:
    """Screen announced URLs, drop repeats (by canonical URL), keep the newest ``max_items``."""
    kept: list[Entry] = []
    refused: list[ItemOutcome] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.path is None:  # directory entries are read from disk, never fetched
            reason = screen_url(entry.url, allowed_networks=source.allowed_networks)
            if reason:
                refused.append(ItemOutcome(url=entry.url, reason=reason, detail="refused announced URL"))
                continue
        key = canonicalize(entry.url)
        if key in seen:
            continue
        seen.add(key)
        kept.append(entry)
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    kept.sort(key=lambda e: e.published or oldest, reverse=True)  # stable: undated keep feed order, last
    return kept[: source.max_items], refused


def _failed(source: SourceConfig, state: SourceState, now: datetime, reason: str, detail: str | None,
            retry_after: float | None = None, location: str | None = None) -> Discovery:
    failures = state.consecutive_failures + 1
    new_state = replace(
        state,
        last_attempt=now,
        consecutive_failures=failures,
        next_allowed_fetch=now + _backoff(source, failures, retry_after),
        last_error=f"{reason}: {detail}" if detail else reason,
    )
    outcome = ItemOutcome(url=location or source.location, reason=reason, detail=detail)
    return Discovery(source=source.name, new_state=new_state, errors=[outcome], error=reason)


def _succeeded(state: SourceState, now: datetime, **changes: object) -> SourceState:
    return replace(
        state, last_attempt=now, last_success=now, consecutive_failures=0, next_allowed_fetch=None, last_error=None,
        **changes,
    )


def discover(
    source: SourceConfig, state: SourceState | None, fetcher: Fetcher | None, now: datetime | None = None
) -> Discovery:
    """The entries ``source`` announces now that it did not announce in the state's last run.

    Args:
        source: the configured source.
        state: its state from the last run (None or a fresh ``SourceState(source=name)`` the first time).
        fetcher: the run's fetcher (unused, may be None, for directory sources).
        now: the run's time (aware datetime); defaults to the current time.

    Returns:
        A Discovery; never raises for a source that is unreachable, broken or misbehaving.
    """
    now = now or datetime.now(timezone.utc)
    state = state or SourceState(source=source.name)
    started = time.monotonic()
    if not source.enabled:
        result = Discovery(source=source.name, new_state=state, skipped="disabled")
    elif state.next_allowed_fetch is not None and now < state.next_allowed_fetch:
        result = Discovery(source=source.name, new_state=state, skipped="backoff")
    elif source.type != "directory" and fetcher is None:
        raise ValueError(f"source {source.name!r} ({source.type}) needs a Fetcher")
    else:
        try:
            if source.type == "directory":
                result = _discover_directory(source, state, now)
            else:
                result = _discover_remote(source, state, fetcher, now)
        except Exception as exc:  # noqa: BLE001 - documented never to raise: a bug here is a failed run with backoff
            log.exception("discovering %s crashed", source.name)
            result = _failed(source, state, now, "source-crashed", f"{type(exc).__name__}: {exc}"[:300])
    result.duration = time.monotonic() - started
    return result


def _discover_directory(source: SourceConfig, state: SourceState, now: datetime) -> Discovery:
    try:
        entries, problems, digest = list_directory(source.path, source=source.name, language=source.language)
    except DirectoryError as exc:
        return _failed(source, state, now, exc.reason, exc.detail)
    full_read = _full_read_due(source, state, now)
    changes: dict[str, object] = {"body_hash": digest}
    if full_read:
        changes["last_unconditional_fetch"] = now
    if digest == state.body_hash and not full_read:
        return Discovery(source=source.name, new_state=_succeeded(state, now, **changes), not_modified=True,
                         errors=problems)
    kept, refused = _select(source, entries)
    return Discovery(source=source.name, entries=kept, new_state=_succeeded(state, now, **changes),
                     errors=problems + refused, seen=len(entries))


def _discover_remote(source: SourceConfig, state: SourceState, fetcher: Fetcher, now: datetime) -> Discovery:
    url = str(source.url)
    conditional = _conditional(source, state, now)
    accept = FEED_ACCEPT if source.type == "feed" else SITEMAP_ACCEPT
    try:
        page = fetcher.get(
            url,
            etag=state.etag if conditional else None,
            last_modified=state.last_modified if conditional else None,
            accept=accept,
        )
    except FetchError as exc:
        return _failed(source, state, now, exc.reason, exc.detail, exc.retry_after)
    changes: dict[str, object] = {}
    if not conditional:
        changes["last_unconditional_fetch"] = now
    if page.status == 304:
        changes["etag"] = page.headers.get("etag") or state.etag
        changes["last_modified"] = page.headers.get("last-modified") or state.last_modified
        return Discovery(source=source.name, new_state=_succeeded(state, now, **changes), not_modified=True)
    digest = _hash(page.body)
    changes.update(etag=page.headers.get("etag"), last_modified=page.headers.get("last-modified"), body_hash=digest)
    if digest == state.body_hash:
        return Discovery(source=source.name, new_state=_succeeded(state, now, **changes), not_modified=True)
    try:
        if source.type == "feed":
            parsed = parse_feed(page.body, url=page.final_url, headers=page.headers, source=source.name,
                                language=source.language)
            announced, problems, warning = parsed.entries, parsed.skipped, parsed.problem
        else:
            announced, problems = _sitemap_entries(source, state, fetcher, page.body, page.final_url)
            warning = None
    except (FeedError, SitemapError) as exc:
        return _failed(source, state, now, exc.reason, exc.detail)
    kept, refused = _select(source, announced)
    return Discovery(source=source.name, entries=kept, new_state=_succeeded(state, now, **changes),
                     errors=problems + refused, seen=len(announced), warning=warning)


def _sitemap_entries(
    source: SourceConfig, state: SourceState, fetcher: Fetcher, body: bytes, url: str
) -> tuple[list[Entry], list[ItemOutcome]]:
    """A urlset's entries, or for an index the entries of its newest children changed since the last success."""
    parsed = parse_sitemap(body, url=url, source=source.name, language=source.language)
    if parsed.kind == "urlset":
        return parsed.entries, parsed.skipped
    problems = list(parsed.skipped)
    children = [
        (loc, lastmod) for loc, lastmod in parsed.children
        if lastmod is None or state.last_success is None or lastmod >= state.last_success
    ]
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    children.sort(key=lambda c: c[1] or oldest, reverse=True)
    for loc, _ in children[MAX_CHILD_SITEMAPS:]:
        problems.append(ItemOutcome(url=loc, reason="child-sitemap-limit", detail=f"only {MAX_CHILD_SITEMAPS} per run"))
    children = children[:MAX_CHILD_SITEMAPS]
    refused = [(loc, screen_url(loc, allowed_networks=source.allowed_networks)) for loc, _ in children]
    problems += [ItemOutcome(url=loc, reason=reason, detail="refused child sitemap") for loc, reason in refused if reason]
    to_fetch = [loc for loc, reason in refused if not reason]
    entries: list[Entry] = []
    failures = 0
    for loc, result in zip(to_fetch, fetcher.fetch_many(to_fetch, accept=SITEMAP_ACCEPT)):
        if isinstance(result, FetchError):
            problems.append(ItemOutcome(url=loc, reason=result.reason, detail=result.detail))
            failures += 1
            continue
        try:
            child = parse_sitemap(result.body, url=result.final_url, source=source.name, language=source.language)
        except SitemapError as exc:
            problems.append(ItemOutcome(url=loc, reason=exc.reason, detail=exc.detail))
            failures += 1
            continue
        if child.kind != "urlset":
            problems.append(ItemOutcome(url=loc, reason="nested-sitemap-index", detail="not followed"))
        entries += child.entries
        problems += child.skipped
    if to_fetch and failures == len(to_fetch):
        raise SitemapError("child-sitemaps-failed", f"none of {len(to_fetch)} child sitemaps gave entries")
    return entries, problems
