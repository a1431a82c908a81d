"""The project's only HTTP client: polite, bounded and guarded.

A :class:`Fetcher` is created for one run (one source's batch), used, and closed; nothing is
shared between runs or held at module level. It enforces a :class:`FetchPolicy`:

- **politeness**: per-host minimum interval (``rate_limit`` requests/s, raised by a robots.txt
  ``Crawl-delay`` up to ``max_crawl_delay``), a per-host concurrency cap, robots.txt (protego,
  cached per origin for this fetcher only), a descriptive User-Agent;
- **incrementality**: conditional GET (``If-None-Match`` / ``If-Modified-Since``); a 304 comes back
  as a :class:`~newswire.models.Page` with ``status == 304`` and an empty body;
- **robustness**: connect/read timeouts plus a total deadline per response, retries with
  exponential backoff on timeouts, connection errors, 408/429/5xx, honouring ``Retry-After``
  (seconds or HTTP date) up to ``max_retry_wait`` for the whole host (a longer demand fails at
  once with ``retry_after`` set, and the host's other URLs fail without being sent until then);
- **limits**: the body is streamed and the response abandoned once it passes ``max_bytes``:
  by default that is a ``FetchError("too-large")`` (a cut XML feed or half a page is worse than
  none); with ``truncate_oversize=True`` the first ``max_bytes`` come back with ``Page.truncated``;
  at most ``max_redirects`` redirects, a repeated URL is ``redirect-loop``;
- **time**: ``total_timeout`` bounds everything one URL costs once its first request starts:
  every attempt, redirect hop, backoff and Retry-After wait; a retry that would end past it is
  not made;
- **SSRF guard**: only http(s); every hop (so every redirect) is checked, and the address actually
  connected to is checked at connect time (after DNS resolution, so a DNS answer cannot slip a
  private address past the check): private, loopback, link-local (cloud metadata
  169.254.169.254), multicast, reserved and unspecified addresses are refused unless they are in
  one of ``allowed_networks`` (CIDRs). Link-local and metadata addresses need a listed network
  inside their own range (``169.254.169.254/32``): a broad one such as ``0.0.0.0/0`` does not
  open them. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
  judged by that address. Environment proxies are ignored for the same reason.

Every failure is a :class:`FetchError` with a short machine ``reason``:
``bad-url`` (also a host no HTTP client can encode), ``bad-scheme``, ``private-address``, ``dns-error``, ``connect-error``, ``timeout``,
``robots-disallowed``, ``robots-unavailable``, ``http-<status>``, ``too-large``,
``bad-content-type``, ``bad-encoding``, ``redirect-loop``, ``too-many-redirects``, ``bad-redirect``,
``protocol-error``. The body limit ``max_bytes`` applies to the decoded body, each
Content-Encoding layer inflated in bounded steps (at most ``MAX_ENCODINGS`` layers).
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import idna
from protego import Protego

from newswire.config import DEFAULT_USER_AGENT
from newswire.models import Page

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from newswire.config import SourceConfig

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ROBOTS_MAX_BYTES = 512_000  # Google's limit is 500 KiB


class FetchError(Exception):
    """A request that gave no usable response. ``reason`` is short and stable, for reports and metrics."""

    def __init__(
        self,
        reason: str,
        url: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        self.reason = reason
        self.url = url
        self.detail = detail
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did
        super().__init__(f"{reason}: {url}" + (f" ({detail})" if detail else ""))

    @property
    def retryable(self) -> bool:
        return self.reason in ("timeout", "connect-error")


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchPolicy:
    """All limits of one fetcher; times in seconds, sizes in bytes."""

    user_agent: str = DEFAULT_USER_AGENT
    rate_limit: float = 1.0  # requests per second per host
    max_concurrency: int = 2  # parallel requests per host
    max_workers: int = 8  # threads of fetch_many, across hosts
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # whole response, so a dripping server cannot stall the run
    max_bytes: int = 5_000_000
    truncate_oversize: bool = False  # False: FetchError("too-large"); True: Page.truncated
    max_redirects: int = 5
    retries: int = 2  # attempts after the first
    backoff_base: float = 0.5  # waits 0.5, 1, 2, ... s
    max_retry_wait: float = 60.0
    respect_robots: bool = True
    max_crawl_delay: float = 30.0
    allowed_networks: tuple[str, ...] = ()  # CIDRs reachable even when not public (e.g. "127.0.0.1/32")
    _networks: tuple[Any, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks = {
            "rate_limit": self.rate_limit > 0,
            "max_concurrency": self.max_concurrency >= 1,
            "max_workers": self.max_workers >= 1,
            "connect_timeout": self.connect_timeout > 0,
            "read_timeout": self.read_timeout > 0,
            "total_timeout": self.total_timeout > 0,
            "max_bytes": self.max_bytes > 0,
            "max_redirects": self.max_redirects >= 0,
            "retries": self.retries >= 0,
            "backoff_base": self.backoff_base >= 0,
            "max_retry_wait": self.max_retry_wait >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"FetchPolicy: out of range: {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")
        object.__setattr__(self, "_networks", parse_networks(self.allowed_networks))

    @classmethod
    def from_source(cls, source: "SourceConfig", **overrides: Any) -> "FetchPolicy":
        """The policy a configured source asks for; keyword overrides win."""
        values = dict(
            user_agent=source.user_agent,
            rate_limit=source.rate_limit,
            max_concurrency=source.max_concurrency,
            connect_timeout=source.timeouts.connect,
            read_timeout=source.timeouts.read,
            total_timeout=source.timeouts.total,
            max_bytes=int(source.max_bytes),
            max_redirects=source.max_redirects,
            retries=source.retries,
            max_retry_wait=source.max_retry_wait.total_seconds(),
            respect_robots=source.respect_robots,
            allowed_networks=tuple(source.allowed_networks),
        )
        values.update(overrides)
        return cls(**values)

    def address_allowed(self, address: str) -> bool:
        """Whether connecting to this IP address is allowed (see :func:`address_allowed`)."""
        return address_allowed(address, self._networks)


#: Ranges a broad allowed network never opens: only a listed network inside the range does.
_SENSITIVE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16",  # IPv4 link-local, with the cloud metadata service 169.254.169.254
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local use: never public


def judged_addresses(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address a connection really reaches: the IPv4 address inside mapped, compatible, NAT64,
    6to4 and Teredo IPv6 forms (a packet to ``64:ff9b::a9fe:a9fe`` reaches 169.254.169.254), else ``ip``."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return [ip.teredo[1]]  # the client address, de-obfuscated
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d (not :: or ::1)
        return [ipaddress.IPv4Address(int(ip))]
    return [ip]


def _reachable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[Any]) -> bool:
    for sensitive in _SENSITIVE_NETWORKS:
        if ip.version == sensitive.version and ip in sensitive:
            return any(ip in net and net.version == sensitive.version and net.subnet_of(sensitive) for net in networks)
    if any(ip.version == net.version and ip in net for net in networks):
        return True
    return ip.is_global and not ip.is_multicast and not (ip.version == 6 and ip in _NAT64_LOCAL)


def address_allowed(address: str, networks: Sequence[Any] = ()) -> bool:
    """Whether connecting to ``address`` is allowed: a public unicast address, or one in ``networks``.

    Link-local and metadata addresses are allowed only by a listed network inside their own
    range, and an address that embeds an IPv4 address is judged by that address.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return all(_reachable(a, networks) for a in judged_addresses(ip))


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses; False for private, loopback, link-local
    (including 169.254.169.254, the cloud metadata service), shared, reserved, multicast,
    unspecified, and IPv6 forms whose embedded IPv4 address is one of those."""
    return address_allowed(str(ip))


# ---------------------------------------------------------------- address screening


_LOCAL_NAMES = re.compile(r"(^|\.)(localhost|localdomain|local|internal|home\.arpa)\.?$", re.IGNORECASE)


def parse_networks(cidrs: Iterable[str]) -> tuple[Any, ...]:
    """CIDR strings to networks (host bits allowed: ``127.0.0.1/8`` is ``127.0.0.0/8``).

    Raises:
        ValueError: one of them is not a network.
    """
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _host_encodable(host: str) -> bool:
    """Whether a host name can go into DNS: no empty or overlong label, and IDNA labels that decode.

    Plain ASCII labels are left alone (real hosts carry underscores, which strict IDNA refuses);
    ``xn--`` and non-ASCII labels must be valid IDNA, as the resolver would insist later.
    """
    if host.startswith("[") or ":" in host:
        return True  # an IPv6 literal
    labels = host.rstrip(".").split(".")
    if not all(0 < len(label) <= 63 for label in labels):
        return False
    for label in labels:
        if label.isascii() and not label.lower().startswith("xn--"):
            continue
        try:
            idna.encode(label, uts46=True)
        except (idna.IDNAError, UnicodeError, ValueError):
            return False
    return True


def screen_url(url: str, *, allowed_networks: Iterable[str] = ()) -> str | None:
    """Cheap check of an announced URL, without DNS: a refusal reason, or None if it may be fetched.

    Refuses non-http(s) schemes (``bad-scheme``), URLs without a host or that no HTTP client can
    send (``bad-url``: a bad port, an IPv4 address with leading zeros, a host IDNA cannot encode
    such as ``a..b`` or ``xn--a.example``), IP literals outside the public unicast ranges and
    ``allowed_networks``, and local-only names such as ``localhost`` when no network is allowed
    (``private-address``). Names that resolve to such addresses are caught when fetched.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "bad-url"
    if parts.scheme.lower() not in ("http", "https"):
        return "bad-scheme"
    if not host:
        return "bad-url"
    try:
        httpx.URL(url.strip())  # what the client would send: IDNA host, strict IPv4 literals
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return "bad-url"
    if not _host_encodable(host):
        return "bad-url"
    networks = parse_networks(allowed_networks)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "private-address" if not networks and _LOCAL_NAMES.search(host) else None
    return None if address_allowed(str(ip), networks) else "private-address"


class _RefusedAddress(httpcore.ConnectError):
    """Raised inside the connection layer when a resolved address is not allowed."""


class _ResolveError(httpcore.ConnectError):
    """The host name did not resolve."""


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, checks every address, and connects to a checked IP only."""

    def __init__(self, policy: FetchPolicy):
        self._policy = policy

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[override]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:  # httpcore maps errors only around its own socket calls
            raise _ResolveError(str(exc)) from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        refused = [a for a in addresses if not self._policy.address_allowed(a)]
        if refused:
            raise _RefusedAddress(f"{host} resolves to {', '.join(refused)}")
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or OSError(f"no address for {host}")


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded connection layer (and no environment proxies)."""

    def __init__(self, policy: FetchPolicy, max_connections: int):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=_GuardedBackend(policy),
        )


# ---------------------------------------------------------------- per-host politeness


@dataclass(slots=True)
class _Host:
    semaphore: threading.BoundedSemaphore
    interval: float
    next_time: float = 0.0  # earliest start of the next request (clock time)
    blocked_until: float = 0.0  # the host asked for a pause longer than we wait: send nothing until then
    blocked_status: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(slots=True)
class _Robots:
    lock: threading.Lock = field(default_factory=threading.Lock)
    parser: Protego | None = None  # None (and no error): everything allowed
    loaded: bool = False
    error: FetchError | None = None  # robots.txt unreachable: raised for every URL of the origin


@dataclass(slots=True)
class _Budget:
    """One URL's share of time (``timeouts.total``): every attempt, redirect, backoff and Retry-After wait.

    The clock starts with the URL's first request, not while it queues behind the host's other
    URLs for its politeness slot.
    """

    total: float
    deadline: float | None = None

    def start(self, now: float) -> None:
        if self.deadline is None:
            self.deadline = now + self.total

    def remaining(self, now: float) -> float:
        return self.total if self.deadline is None else max(self.deadline - now, 0.001)

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now > self.deadline


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


def _cause_chain(exc: BaseException) -> Iterator[BaseException]:
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1


class Fetcher:
    """An HTTP client for one run. Thread-safe; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy or FetchPolicy()
        self._clock = clock
        self._sleep = sleep
        p = self.policy
        self._client = httpx.Client(
            transport=_GuardedTransport(p, max_connections=max(p.max_workers, p.max_concurrency) * 2),
            timeout=httpx.Timeout(connect=p.connect_timeout, read=p.read_timeout, write=p.read_timeout, pool=p.total_timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": p.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, _Robots] = {}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ public API

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        content_types: Sequence[str] | None = None,
    ) -> Page:
        """GET ``url`` under the policy, following redirects.

        Args:
            etag, last_modified: validators from the previous response; sent as
                ``If-None-Match`` / ``If-Modified-Since``. A 304 is returned as a Page with status 304.
            accept: the Accept header.
            content_types: if given, a 200 whose media type is not one of these (prefix match, e.g.
                ``"text/"``) fails with ``bad-content-type`` before its body is read.

        Raises:
            FetchError: see the module docstring for the reasons.
        """
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        return self._follow(url, headers, content_types, self.policy.max_bytes, check_robots=True)

    def fetch_many(self, urls: Iterable[str], **kwargs: Any) -> list[Page | FetchError]:
        """GET many URLs in parallel (per-host limits still apply); results in input order, never raises.

        Whatever goes wrong with one URL is that URL's FetchError; an unexpected exception is
        logged and comes back as ``fetch-crashed``, so one URL never costs the others.
        """
        urls = list(urls)
        if not urls:
            return []

        def one(u: str) -> Page | FetchError:
            try:
                return self.get(u, **kwargs)
            except FetchError as exc:
                return exc
            except Exception as exc:  # noqa: BLE001 - a bug on one URL must not fail the batch
                log.exception("fetching %s crashed", u)
                return FetchError("fetch-crashed", u, f"{type(exc).__name__}: {exc}"[:300])

        with ThreadPoolExecutor(max_workers=min(self.policy.max_workers, len(urls))) as pool:
            return list(pool.map(one, urls))

    def robots_allows(self, url: str) -> bool:
        """Whether robots.txt lets this fetcher's user agent fetch ``url`` (robots.txt is read once per origin).

        Raises:
            FetchError: robots.txt was unreachable (``robots-unavailable`` for a 5xx, else the connection error).
        """
        robots = self._robots_for(url)
        if robots.error is not None:
            raise FetchError(robots.error.reason, url, f"robots.txt: {robots.error.detail or robots.error.reason}")
        return robots.parser is None or robots.parser.can_fetch(url, self.policy.user_agent)

    # ------------------------------------------------------------ internals

    def _follow(
        self, url: str, headers: dict[str, str], content_types: Sequence[str] | None, max_bytes: int, *, check_robots: bool
    ) -> Page:
        chain = [url]
        current = url
        budget = _Budget(self.policy.total_timeout)
        while True:
            self._check_target(current)
            if check_robots and self.policy.respect_robots and not self.robots_allows(current):
                raise FetchError("robots-disallowed", current)
            status, resp_headers, body, truncated = self._with_retries(current, headers, content_types, max_bytes,
                                                                       budget)
            if status not in REDIRECT_STATUSES:
                return Page(
                    url=url,
                    final_url=current,
                    status=status,
                    headers=resp_headers,
                    body=body,
                    fetched_at=datetime.now(timezone.utc),
                    truncated=truncated,
                )
            location = resp_headers.get("location")
            if not location:
                raise FetchError("bad-redirect", current, f"{status} without Location")
            target = urljoin(current, location.strip())
            if target in chain:
                raise FetchError("redirect-loop", url, " -> ".join(chain + [target]))
            if len(chain) > self.policy.max_redirects:
                raise FetchError("too-many-redirects", url, f"more than {self.policy.max_redirects}")
            chain.append(target)
            current = target

    def _check_target(self, url: str) -> None:
        """Refuse a URL (the first or a redirect's target) before any connection is made."""
        reason = screen_url(url, allowed_networks=self.policy.allowed_networks)
        if reason:  # names are checked again after resolution, at connect time
            raise FetchError(reason, url, urlsplit(url).hostname if reason == "private-address" else None)

    def _host(self, url: str) -> _Host:
        key = (urlsplit(url).hostname or "").lower()
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = _Host(
                    semaphore=threading.BoundedSemaphore(self.policy.max_concurrency),
                    interval=1.0 / self.policy.rate_limit,
                )
                self._hosts[key] = host
            return host

    @contextmanager
    def _turn(self, url: str, budget: _Budget | None = None) -> Iterator[None]:
        """Hold one of the host's concurrency slots, starting no sooner than its rate limit allows.

        A retry or redirect whose turn would come after the URL's time budget fails at once.
        """
        host = self._host(url)
        with host.semaphore:
            with host.lock:
                now = self._clock()
                start = max(now, host.next_time)
                if budget is not None and budget.deadline is not None and start >= budget.deadline:
                    raise FetchError("timeout", url, f"no turn within timeouts.total ({self.policy.total_timeout:.0f}s)")
                host.next_time = start + host.interval
            if start > now:
                self._sleep(start - now)
            self._check_not_paused(url, host)
            yield

    def _pause_host(self, url: str, seconds: float, status: int) -> None:
        """Honour a Retry-After for the whole host: later requests (from any thread) start after it."""
        host = self._host(url)
        with host.lock:
            now = self._clock()
            host.next_time = max(host.next_time, now + min(seconds, self.policy.max_retry_wait))
            if seconds > self.policy.max_retry_wait:
                host.blocked_until, host.blocked_status = max(host.blocked_until, now + seconds), status

    def _check_not_paused(self, url: str, host: _Host) -> None:
        with host.lock:
            remaining = host.blocked_until - self._clock()
            status = host.blocked_status
        if remaining > 0:
            raise FetchError(f"http-{status}", url, f"not sent: the host asked for {remaining:.0f}s more",
                             status=status, retry_after=remaining)

    def _robots_for(self, url: str) -> _Robots:
        """This origin's robots.txt, fetched once (RFC 9309: 4xx = no rules, 5xx = unreachable)."""
        origin = _origin(url)
        with self._lock:
            robots = self._robots.setdefault(origin, _Robots())
        with robots.lock:
            if robots.loaded:
                return robots
            try:
                page = self._follow(origin + "/robots.txt", {}, None, ROBOTS_MAX_BYTES, check_robots=False)
            except FetchError as exc:
                if exc.status is not None and exc.status >= 500:
                    robots.error = FetchError("robots-unavailable", exc.url, f"answered {exc.status}")
                elif exc.reason in ("timeout", "connect-error", "dns-error", "private-address"):
                    robots.error = exc  # the origin itself is unreachable: fail its URLs fast
                # else (4xx, too large, redirect trouble): treated as "no robots.txt"
            else:
                text = page.body.decode("utf-8", errors="replace") if page.status == 200 else ""
                robots.parser = Protego.parse(text) if text.strip() else None
                delay = robots.parser.crawl_delay(self.policy.user_agent) if robots.parser else None
                if delay:
                    host = self._host(url)
                    with host.lock:
                        host.interval = max(host.interval, min(float(delay), self.policy.max_crawl_delay))
            robots.loaded = True
            return robots

    def _with_retries(
        self, url: str, headers: dict[str, str], content_types: Sequence[str] | None, max_bytes: int, budget: _Budget
    ) -> tuple[int, dict[str, str], bytes, bool]:
        p = self.policy
        attempt = 0
        while True:
            error: FetchError | None = None
            retry_after: float | None = None
            with self._turn(url, budget):
                budget.start(self._clock())
                try:
                    result = self._send(url, headers, content_types, max_bytes, budget)
                except FetchError as exc:
                    error = exc
            if error is None:
                status, resp_headers = result[0], result[1]
                if status < 400:
                    return result
                retry_after = parse_retry_after(resp_headers.get("retry-after"))
                error = FetchError(f"http-{status}", url, status=status, retry_after=retry_after)
                if retry_after is not None and status in (429, 503):
                    self._pause_host(url, retry_after, status)
                if status not in RETRY_STATUSES:
                    raise error
            elif not error.retryable:
                raise error
            if attempt >= p.retries:
                raise error
            wait = retry_after if retry_after is not None else p.backoff_base * (2**attempt)
            if wait > p.max_retry_wait:
                error.detail = f"Retry-After {wait:.0f}s exceeds the {p.max_retry_wait:.0f}s cap"
                raise error
            if budget.deadline is not None and self._clock() + wait >= budget.deadline:
                error.detail = (f"after {attempt + 1} attempt(s): another would pass timeouts.total "
                                f"({p.total_timeout:.0f}s)")
                raise error
            attempt += 1
            if wait > 0:
                self._sleep(wait)

    def _send(
        self, url: str, headers: dict[str, str], content_types: Sequence[str] | None, max_bytes: int, budget: _Budget
    ) -> tuple[int, dict[str, str], bytes, bool]:
        """One request, body streamed and decoded up to the size limit, inside the page's time budget."""
        p = self.policy
        remaining = budget.remaining(self._clock())
        timeout = httpx.Timeout(connect=min(p.connect_timeout, remaining), read=min(p.read_timeout, remaining),
                                write=min(p.read_timeout, remaining), pool=remaining)
        try:
            with self._client.stream("GET", url, headers=headers, timeout=timeout) as resp:
                resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                status = resp.status_code
                if not 200 <= status < 300:
                    return status, resp_headers, b"", False
                if content_types and not _media_type_ok(resp_headers.get("content-type"), content_types):
                    raise FetchError("bad-content-type", url, resp_headers.get("content-type"))
                declared = resp_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes and not p.truncate_oversize:
                    raise FetchError("too-large", url, f"Content-Length {declared} > {max_bytes}")
                return (status, resp_headers, *self._read_body(url, resp, max_bytes, budget))
        except _DecodeError as exc:
            raise FetchError("bad-encoding", url, str(exc)) from None
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", url, type(exc).__name__) from None
        except (httpx.ConnectError, httpx.ProxyError) as exc:
            for cause in _cause_chain(exc):
                if isinstance(cause, _RefusedAddress):
                    raise FetchError("private-address", url, str(cause)) from None
                if isinstance(cause, _ResolveError):
                    raise FetchError("dns-error", url, str(cause)) from None
            raise FetchError("connect-error", url, str(exc) or type(exc).__name__) from None
        except httpx.InvalidURL as exc:
            raise FetchError("bad-url", url, str(exc)) from None
        except httpx.HTTPError as exc:  # protocol violations, dropped connections
            raise FetchError("protocol-error", url, f"{type(exc).__name__}: {exc}") from None

    def _read_body(self, url: str, resp: httpx.Response, max_bytes: int, budget: _Budget) -> tuple[bytes, bool]:
        """The decoded body, stopped once the wire bytes or the decoded bytes pass ``max_bytes``.

        The body is read raw and decoded here in bounded steps (see :func:`decoded_chunks`): the
        limit applies to what the body inflates to, not only to what crossed the network.
        """
        wire = 0
        cut = False

        def raw() -> Iterator[bytes]:
            nonlocal wire, cut
            for chunk in resp.iter_raw():
                if wire + len(chunk) > max_bytes:
                    if not self.policy.truncate_oversize:
                        raise FetchError("too-large", url, f"body passed {max_bytes} bytes on the wire")
                    cut = True
                    yield chunk[: max_bytes - wire]
                    return
                wire += len(chunk)
                yield chunk

        body = bytearray()
        try:
            for chunk in decoded_chunks(raw(), resp.headers.get("content-encoding")):
                if budget.expired(self._clock()):
                    raise FetchError("timeout", url,
                                     f"body not complete within timeouts.total ({self.policy.total_timeout}s)")
                if len(body) + len(chunk) > max_bytes:
                    if not self.policy.truncate_oversize:
                        raise FetchError("too-large", url, f"body passed {max_bytes} bytes")
                    body += chunk[: max_bytes - len(body)]
                    return bytes(body), True
                body += chunk
        except _DecodeError:
            if not cut:  # a body cut on purpose ends mid-stream; what was decoded is kept
                raise
        return bytes(body), cut


def _media_type_ok(content_type: str | None, allowed: Sequence[str]) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return not media or any(media.startswith(a.lower()) for a in allowed)


# ---------------------------------------------------------------- bounded content decoding

#: Content-Encoding layers decoded; a response stacking more is refused (a real server applies one).
MAX_ENCODINGS = 2
_DECODE_STEP = 65_536  # bytes of output one decompress call may produce


class _DecodeError(Exception):
    """The body cannot be decoded as its Content-Encoding says."""


def _encodings(header: str | None) -> list[str]:
    """The Content-Encoding layers in the order they were applied, identity dropped."""
    names = [part.strip().lower() for part in (header or "").split(",")]
    return [name for name in names if name and name != "identity"]


def _inflate(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """Undo one gzip/deflate layer, yielding at most ``_DECODE_STEP`` bytes per step.

    httpx's own decoders inflate a whole network chunk in one call, so a 16 kB response with
    ``Content-Encoding: gzip, gzip`` became gigabytes before any size check could see it; here
    each step's output is bounded, and the caller stops pulling once its limit is passed.
    """
    gzip_layer = encoding in ("gzip", "x-gzip")
    wbits = 16 + zlib.MAX_WBITS if gzip_layer else zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    first = True
    try:
        for chunk in chunks:
            data = chunk
            while data:
                if decoder.eof:  # a gzip body may hold several members (RFC 1952); anything else is padding
                    if not gzip_layer or not data.startswith(b"\x1f\x8b"):
                        return
                    decoder = zlib.decompressobj(wbits)
                try:
                    out = decoder.decompress(data, _DECODE_STEP)
                except zlib.error:
                    if not (first and not gzip_layer):
                        raise
                    decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # "deflate" sent raw, without its zlib header
                    out = decoder.decompress(data, _DECODE_STEP)
                first = False
                data = decoder.unused_data if decoder.eof else decoder.unconsumed_tail
                if out:
                    yield out
        while not decoder.eof:  # output still held back by the step limit
            out = decoder.decompress(b"", _DECODE_STEP)
            if not out:
                break
            yield out
    except zlib.error as exc:
        raise _DecodeError(f"bad {encoding} data: {exc}") from None


def decoded_chunks(raw: Iterator[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body as the server meant it, undoing each Content-Encoding layer lazily and in bounded steps.

    Raises:
        _DecodeError: an unsupported encoding, more than ``MAX_ENCODINGS`` layers, or corrupt data.
    """
    layers = _encodings(content_encoding)
    if len(layers) > MAX_ENCODINGS:
        raise _DecodeError(f"{len(layers)} stacked Content-Encodings ({content_encoding})")
    unknown = [name for name in layers if name not in ("gzip", "x-gzip", "deflate")]
    if unknown:
        raise _DecodeError(f"unsupported Content-Encoding {unknown[0]!r}")
    stream: Iterator[bytes] = raw
    for encoding in reversed(layers):  # the last applied is undone first
        stream = _inflate(stream, encoding)
    return stream

