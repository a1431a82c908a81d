"""The poll loop over all watched sources, as an async generator of :class:`Change` values.

No Airflow here: :class:`~newswire.watch.trigger.FeedWatchTrigger` wraps :meth:`FeedWatcher.changes`
into trigger events, and tests drive it directly. Each poll runs the synchronous
:func:`~newswire.watch.poll.poll_source` in a thread, so the event loop is never blocked; polls of
different hosts run side by side, and one :class:`~newswire.fetch.Fetcher` per host (kept for the
watcher's lifetime, its robots.txt cache renewed every ``ROBOTS_REFRESH`` seconds) holds the
per-host rate limit and concurrency cap across all sources of that host.

A change is recorded (``record``, e.g. the pending mark in Elasticsearch) *before* it is yielded,
and a poll's new state is kept only once its change is recorded: if recording fails, the entries
stay unseen and the next poll announces them again, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from newswire.config import SourceConfig
from newswire.fetch import Fetcher, FetchPolicy
from newswire.watch.poll import IndexedCheck, PollResult, WatchState, poll_source

log = logging.getLogger(__name__)

ROBOTS_REFRESH = 3600.0  # seconds a host's fetcher (and so its robots.txt) is kept
IDLE_CAP = 60.0  # the loop wakes at least this often
RECORD_RETRY = 5.0  # seconds before polling again after a failed record


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """Watched sources that announced entries not seen before, at ``at``."""

    sources: tuple[str, ...]
    new_entries: int
    at: datetime

    def payload(self) -> dict:
        return {"sources": list(self.sources), "new_entries": self.new_entries, "at": self.at.isoformat()}


def host_of(source: SourceConfig) -> str:
    return (urlsplit(str(source.url)).hostname or "").lower()


def host_policy(sources: Sequence[SourceConfig]) -> FetchPolicy:
    """One fetcher's policy for all sources of a host: the strictest rate and concurrency among them.

    Retries are left to the watcher (the next poll is the retry, after the failure backoff).
    """
    first = sources[0]
    return FetchPolicy.from_source(
        first,
        rate_limit=min(s.rate_limit for s in sources),
        max_concurrency=min(s.max_concurrency for s in sources),
        retries=0,
    )


class FeedWatcher:
    """Polls watched sources, each on its own adaptive timetable, and yields what changed."""

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        *,
        record: Callable[[Change], None] | None = None,
        already_indexed: IndexedCheck | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        unwatched = [s.name for s in sources if s.watch is None or s.type == "directory"]
        if unwatched:
            raise ValueError(f"not watched feeds or sitemaps: {', '.join(unwatched)}")
        self.sources = {s.name: s for s in sources}
        self.states = {s.name: WatchState.start(s) for s in sources}
        self.due = {s.name: 0.0 for s in sources}  # clock time of each source's next poll
        self.last: dict[str, PollResult] = {}  # the latest poll of each source, for logs and tests
        self._record = record
        self._already_indexed = already_indexed
        self._clock = clock
        self._fetchers: dict[str, tuple[Fetcher, float]] = {}

    def close(self) -> None:
        for fetcher, _ in self._fetchers.values():
            fetcher.close()
        self._fetchers.clear()

    def _fetcher(self, host: str) -> Fetcher:
        now = self._clock()
        held = self._fetchers.get(host)
        if held is not None and now - held[1] < ROBOTS_REFRESH:
            return held[0]
        if held is not None:
            held[0].close()
        fetcher = Fetcher(host_policy([s for s in self.sources.values() if host_of(s) == host]))
        self._fetchers[host] = (fetcher, now)
        return fetcher

    def _poll(self, name: str, fetcher: Fetcher) -> PollResult:
        """Poll one source now (blocking; run in a thread); the state is not yet kept (see :meth:`keep`)."""
        return poll_source(self.sources[name], self.states[name], fetcher, already_indexed=self._already_indexed)

    def keep(self, result: PollResult, polled_at: float) -> None:
        """Adopt a poll's state and schedule the source's next poll."""
        self.states[result.source] = result.state
        self.due[result.source] = polled_at + result.wait
        self.last[result.source] = result

    async def poll_due(self) -> Change | None:
        """Poll every source that is due, concurrently; the Change they found (recorded), if any."""
        now = self._clock()
        names = [n for n, at in self.due.items() if at <= now]
        if not names:
            return None
        # Fetchers are picked before the polls start: sources of one host must share one. Creating
        # one (an SSL context, a connection pool) blocks, so that happens in a thread too.
        hosts = {host_of(self.sources[n]) for n in names}
        by_host = dict(zip(hosts, await asyncio.gather(*(asyncio.to_thread(self._fetcher, h) for h in hosts))))
        fetchers = {n: by_host[host_of(self.sources[n])] for n in names}
        results = await asyncio.gather(*(asyncio.to_thread(self._poll, n, fetchers[n]) for n in names))
        changed = [r for r in results if r.changed]
        change = None
        if changed:
            change = Change(sources=tuple(r.source for r in changed), new_entries=sum(len(r.new) for r in changed),
                            at=datetime.now(timezone.utc))
            if self._record is not None:
                try:
                    await asyncio.to_thread(self._record, change)
                except Exception:  # noqa: BLE001 - storage down: keep the entries unseen, poll again soon
                    log.exception("could not record the change of %s; polling again in %ss",
                                  ", ".join(change.sources), RECORD_RETRY)
                    for r in changed:
                        self.due[r.source] = now + RECORD_RETRY
                    results = [r for r in results if not r.changed]
                    change = None
        for r in results:
            self.keep(r, now)
            log.info("watch %s: %s, %d new, next poll in %.0fs%s", r.source, r.outcome, len(r.new), r.wait,
                     f" ({r.error})" if r.error else "")
        return change

    def seconds_to_next(self) -> float:
        return max(0.0, min(min(self.due.values()) - self._clock(), IDLE_CAP))

    async def changes(self) -> AsyncIterator[Change]:
        """Poll forever; yield each recorded Change."""
        try:
            while True:
                change = await self.poll_due()
                if change is not None:
                    yield change
                await asyncio.sleep(self.seconds_to_next())
        finally:
            self.close()
