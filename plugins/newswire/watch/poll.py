"""One poll of one watched source: conditional GET through the project's fetcher, then what is new.

:func:`poll_source` is synchronous and has no clock or storage of its own: it takes the source's
:class:`WatchState` and returns a :class:`PollResult` carrying the next state and the pause before
the next poll (see :mod:`newswire.watch.interval`). The fetching, the conditional GET, the body-hash
guard, sitemap indexes, URL screening and the failure backoff are those of
:func:`newswire.sources.discover`, under the source's :class:`~newswire.fetch.FetchPolicy`
(per-host rate limit, robots.txt, address guard), so a watched source is read exactly as the
ingestion reads it.

An entry is *new* when its canonical URL is not among those the watcher has seen. On the first poll
(nothing seen yet) the entries the index already holds count as seen, so a restarted watcher does
not announce a whole feed again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from newswire.config import SourceConfig
from newswire.fetch import Fetcher
from newswire.models import Page, SourceState
from newswire.sources import discover
from newswire.urls import canonicalize
from newswire.watch.interval import Bounds, adapt, wait_after_failure, wait_after_success

MAX_SEEN = 5000  # canonical URLs remembered per source (a feed lists tens to a few hundred)

#: Given canonical URLs, which of them the index already holds.
IndexedCheck = Callable[[list[str]], set[str]]


@dataclass(frozen=True, kw_only=True, slots=True)
class WatchState:
    """What the watcher remembers of one source between polls (in memory, for the trigger's lifetime)."""

    source: str
    interval: float  # the adaptive pause, seconds
    fetch_state: SourceState  # validators, body hash, failure count: as discover() keeps them
    seen: tuple[str, ...] = ()  # canonical URLs, newest first, at most MAX_SEEN
    primed: bool = False  # a first successful read is behind us

    @classmethod
    def start(cls, source: SourceConfig) -> "WatchState":
        """A fresh state: the first poll comes at once and then runs at ``min_interval``."""
        return cls(source=source.name, interval=Bounds.of(source).min_interval, fetch_state=SourceState(source=source.name))


@dataclass(frozen=True, kw_only=True, slots=True)
class PollResult:
    """The outcome of one poll."""

    source: str
    outcome: str  # new | unchanged | not-modified | failed
    state: WatchState  # the state to keep once the outcome is recorded
    new: tuple[str, ...] = ()  # canonical URLs not seen before, newest first
    wait: float = 0.0  # seconds until the next poll
    error: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.new)


class _FirstHeaders:
    """A fetcher that remembers the headers of the first response (the feed's own), for Cache-Control."""

    def __init__(self, fetcher: Fetcher):
        self._fetcher = fetcher
        self.headers: dict[str, str] = {}

    def get(self, url: str, **kwargs) -> Page:
        page = self._fetcher.get(url, **kwargs)
        if not self.headers:
            self.headers = page.headers
        return page

    def fetch_many(self, urls, **kwargs):
        return self._fetcher.fetch_many(urls, **kwargs)


def poll_source(
    source: SourceConfig,
    state: WatchState,
    fetcher: Fetcher,
    *,
    already_indexed: IndexedCheck | None = None,
    now: datetime | None = None,
) -> PollResult:
    """Poll ``source`` once; never raises for a source that is unreachable or broken.

    Args:
        source: a watched feed or sitemap.
        state: its state from the last poll (``WatchState.start(source)`` the first time).
        fetcher: the watcher's fetcher for the source's host (its rate limit and robots cache persist).
        already_indexed: used on the first poll only: canonical URLs the index already holds.
        now: the poll's time (aware); defaults to the current time.
    """
    now = now or datetime.now(timezone.utc)
    bounds = Bounds.of(source)
    recorder = _FirstHeaders(fetcher)
    # The watcher keeps its own timetable; discover's "not before" would only repeat it.
    discovery = discover(source, replace(state.fetch_state, next_allowed_fetch=None), recorder, now)  # type: ignore[arg-type]
    fetch_state = discovery.new_state
    if discovery.failed:
        until = fetch_state.next_allowed_fetch
        asked = (until - now).total_seconds() if until is not None else None
        wait = wait_after_failure(state.interval, fetch_state.consecutive_failures, asked, bounds)
        return PollResult(source=source.name, outcome="failed", error=discovery.error, wait=wait,
                          state=replace(state, fetch_state=fetch_state))
    keys = list(dict.fromkeys(canonicalize(e.url) for e in discovery.entries))
    known = set(state.seen)
    new = [k for k in keys if k not in known]
    if new and not state.primed and already_indexed is not None:
        indexed = already_indexed(new)
        new = [k for k in new if k not in indexed]
    seen = tuple(dict.fromkeys([*new, *keys, *state.seen]))[:MAX_SEEN]
    interval = adapt(state.interval, changed=bool(new), bounds=bounds)
    outcome = "new" if new else ("not-modified" if discovery.not_modified else "unchanged")
    primed = state.primed or not discovery.not_modified  # a 304 read no entries to remember
    next_state = replace(state, interval=interval, fetch_state=fetch_state, seen=seen, primed=primed)
    return PollResult(source=source.name, outcome=outcome, state=next_state, new=tuple(new),
                      wait=wait_after_success(interval, recorder.headers, bounds))
