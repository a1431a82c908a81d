"""When to poll a watched source next: plain functions over numbers, no I/O, no clock.

The pause adapts between the source's ``watch.min_interval`` and ``watch.max_interval``:

- new entries halve it (never below ``min_interval``): a feed that keeps changing is polled often;
- a poll that finds nothing new (a 304, the same body, or only entries seen before) stretches it
  by half (never above ``max_interval``): a quiet feed costs few requests;
- a response's ``Cache-Control: max-age`` (less its ``Age``) is honoured as a floor, up to
  ``max_interval``: the server said the document will not change sooner;
- a failed poll waits for the source's failure backoff (``failure_backoff`` doubling up to
  ``max_failure_backoff``) or the server's ``Retry-After``, whichever is longer, and never less
  than the current pause. The adaptive pause itself is left as it was, so the first good poll
  after an outage resumes at the old pace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SHRINK = 0.5  # factor after a poll that found new entries
GROW = 1.5  # factor after a poll that found nothing new
MAX_RETRY_AFTER = 86_400.0  # a server cannot park a source for longer than a day
_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d{1,10})\"?\s*(?=,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-cache|no-store)\s*(?=,|$|=)", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True, slots=True)
class Bounds:
    """A source's limits, in seconds (from ``watch`` and the failure backoff settings)."""

    min_interval: float
    max_interval: float
    failure_backoff: float
    max_failure_backoff: float

    def __post_init__(self) -> None:
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError(f"Bounds: need 0 < min_interval <= max_interval, got {self.min_interval}, {self.max_interval}")
        if not 0 < self.failure_backoff <= self.max_failure_backoff:
            raise ValueError("Bounds: need 0 < failure_backoff <= max_failure_backoff")

    @classmethod
    def of(cls, source) -> "Bounds":
        """The bounds of a watched :class:`~newswire.config.SourceConfig`."""
        if source.watch is None:
            raise ValueError(f"source {source.name!r} is not watched (no watch: in its config)")
        return cls(
            min_interval=source.watch.min_interval.total_seconds(),
            max_interval=source.watch.max_interval.total_seconds(),
            failure_backoff=source.failure_backoff.total_seconds(),
            max_failure_backoff=source.max_failure_backoff.total_seconds(),
        )


def adapt(interval: float, *, changed: bool, bounds: Bounds) -> float:
    """The adaptive pause after a successful poll: shorter if it found new entries, longer if not."""
    factor = SHRINK if changed else GROW
    return min(max(interval * factor, bounds.min_interval), bounds.max_interval)


def cache_lifetime(headers: dict[str, str]) -> float | None:
    """Seconds the response stays fresh by ``Cache-Control`` (``s-maxage``/``max-age`` less ``Age``); None if unsaid.

    ``no-cache``/``no-store`` say nothing about when the document changes, so they give None.
    """
    value = headers.get("cache-control", "")
    if not value or len(value) > 1000 or _NO_CACHE.search(value):
        return None
    ages = {name.lower(): int(seconds) for name, seconds in _MAX_AGE.findall(value)}
    max_age = ages.get("s-maxage", ages.get("max-age"))
    if max_age is None:
        return None
    age = headers.get("age", "").strip()
    return max(0.0, float(max_age) - (float(age) if age.isdigit() else 0.0))


def wait_after_success(interval: float, headers: dict[str, str], bounds: Bounds) -> float:
    """The pause before the next poll after a successful one whose adaptive pause is ``interval``."""
    lifetime = cache_lifetime(headers)
    if lifetime is not None:
        interval = max(interval, min(lifetime, bounds.max_interval))
    return interval


def wait_after_failure(interval: float, failures: int, retry_after: float | None, bounds: Bounds) -> float:
    """The pause after the ``failures``-th failure in a row (1 for the first)."""
    backoff = min(bounds.failure_backoff * 2 ** max(failures - 1, 0), bounds.max_failure_backoff)
    if retry_after is not None:
        backoff = max(backoff, min(retry_after, MAX_RETRY_AFTER))
    return max(interval, backoff)
