"""The sources file (``config/sources.yaml``): a typed schema, loaded and checked in one place.

Layout::

    defaults:            # optional; merged into every source (a source's own keys win,
      rate_limit: 1      #   ``timeouts`` and ``watch`` are merged key by key)
    sources:
      - name: seeds      # unique
        type: directory  # feed | sitemap | directory
        path: ../seeds   # directory sources: relative to THIS FILE's directory
      - name: bbc-world
        type: feed
        url: https://feeds.bbci.co.uk/news/world/rss.xml

Every model forbids unknown keys, so a typo such as ``urll`` is an error rather than a
silently ignored setting. :func:`load_config` collects *all* problems and raises one
:class:`ConfigError` whose lines read ``sources[1] (bbc-world): urll: unknown field``.
Secrets never belong in this file: credentials come from the environment (see ``settings``).
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

#: Airflow's schedule presets (plus ``None`` in YAML: run only when triggered).
SCHEDULE_PRESETS = frozenset(
    {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually"}
)
DEFAULT_USER_AGENT = "newswire/0.1 (+https://github.com/newswire/newswire; news ingestion bot)"
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(ValueError):
    """The sources file is unreadable or invalid; ``problems`` holds one line per problem."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))


def parse_duration(value: Any) -> Any:
    """Accept ``90`` (seconds), ``"90s"``, ``"30m"``, ``"6h"``, ``"2d"``, ``"1w"``; pass the rest to pydantic."""
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()])
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    """Seconds. ``total`` bounds a whole response, so a server that drips bytes cannot stall a run."""

    connect: float = Field(5.0, gt=0)
    read: float = Field(20.0, gt=0)
    total: float = Field(60.0, gt=0)


class WatchOptions(_Strict):
    """Stream mode: the feed watcher polls between these bounds (shorter while it changes, longer while not)."""

    min_interval: timedelta = Field(timedelta(seconds=30), description="shortest pause between two polls")
    max_interval: timedelta = Field(timedelta(minutes=15), description="longest pause while nothing changes")

    _durations = field_validator("min_interval", "max_interval", mode="before")(parse_duration)

    @field_validator("min_interval", "max_interval")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1) or value > timedelta(days=1):
            raise ValueError("must be between 1s and 1d")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "WatchOptions":
        if self.min_interval > self.max_interval:
            raise ValueError("max_interval: must not be shorter than min_interval")
        return self


class SourceOptions(_Strict):
    """Everything the ``defaults`` block may set; each source inherits these and may override them."""

    enabled: bool = True
    schedule: str | None = "@hourly"  # cron expression or Airflow preset; null = manual only
    language: str | None = None  # hint, e.g. "en"; extraction still detects the language
    tags: tuple[str, ...] = ()
    rate_limit: float = Field(1.0, gt=0, le=100, description="requests per second per host")
    max_concurrency: int = Field(2, ge=1, le=16, description="parallel requests per host")
    max_items: int = Field(100, ge=1, description="entries taken per run (newest first)")
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=3)
    allowed_networks: tuple[str, ...] = Field(
        (), description="CIDRs a source may reach although not public, e.g. [127.0.0.1/32]; link-local and "
        "metadata addresses only through a network inside their own range")
    respect_robots: bool = True
    timeouts: Timeouts = Timeouts()
    max_bytes: ByteSize = Field(ByteSize(5_000_000), gt=0, description="accepts 5000000, '5MB', '5MiB'")
    max_redirects: int = Field(5, ge=0, le=20)
    retries: int = Field(2, ge=0, le=10)
    max_retry_wait: timedelta = Field(timedelta(seconds=60), description="cap on Retry-After/backoff waits")
    unconditional_after: timedelta = Field(
        timedelta(hours=24), description="after this age a full GET replaces the conditional one (stale ETags)"
    )
    remember_rejected: timedelta = Field(
        timedelta(days=7),
        description="how long a page that is not an article (not-article, paywall, ...) is not fetched again; 0: always",
    )
    failure_backoff: timedelta = Field(timedelta(minutes=5), description="first pause after a failed run")
    max_failure_backoff: timedelta = Field(timedelta(hours=12), description="the pause doubles up to this")
    page_timeout: timedelta = Field(timedelta(seconds=30), gt=timedelta(0),
                                    description="CPU budget to process one page; past it the page is 'too-slow'")
    task_timeout: timedelta = Field(timedelta(hours=1), gt=timedelta(0),
                                    description="the Airflow tasks' execution_timeout for this source's DAG")
    watch: WatchOptions | None = Field(None, description="stream mode (feeds and sitemaps): ingest when the feed changes")

    _durations = field_validator(
        "max_retry_wait", "unconditional_after", "remember_rejected", "failure_backoff", "max_failure_backoff",
        "page_timeout", "task_timeout", mode="before",
    )(parse_duration)

    @model_validator(mode="before")
    @classmethod
    def _removed_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and "allow_private_network" in data:
            raise ValueError("allow_private_network: removed (it opened every private range); list what the "
                             "source may reach under allowed_networks, e.g. [127.0.0.1/32]")
        return data

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _check_networks(cls, value: Any) -> Any:
        import ipaddress

        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            return value  # pydantic reports the type
        networks = []
        for item in value:
            try:
                networks.append(str(ipaddress.ip_network(str(item).strip(), strict=True)))
            except ValueError as exc:
                raise ValueError(f"not a network in CIDR form ({exc})") from None
        return networks

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        if value is None or value in SCHEDULE_PRESETS:
            return value
        from croniter import CroniterBadDateError, croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression or one of {', '.join(sorted(SCHEDULE_PRESETS))}")
        try:  # "0 0 31 2 *" is well-formed but never fires: Airflow would never run the source
            croniter(value).get_next(float)
        except (CroniterBadDateError, ValueError, OverflowError):
            raise ValueError("a cron expression that never fires (no next run)") from None
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SourceConfig(SourceOptions):
    """One configured source. ``url`` for feeds and sitemaps, ``path`` (a folder) for directories."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    type: Literal["feed", "sitemap", "directory"]
    url: HttpUrl | None = None
    path: Path | None = None

    @model_validator(mode="after")
    def _url_or_path(self) -> "SourceConfig":
        if self.type == "directory":
            if self.path is None:
                raise ValueError("path: required for a directory source")
            if self.url is not None:
                raise ValueError("url: not used by a directory source (give path)")
        else:
            if self.url is None:
                raise ValueError(f"url: required for a {self.type} source")
            if self.path is not None:
                raise ValueError(f"path: not used by a {self.type} source (give url)")
        if self.type == "directory" and self.watch is not None:
            raise ValueError("watch: only feeds and sitemaps can be watched (a directory is read on its schedule)")
        return self

    @property
    def location(self) -> str:
        """The url or the path, as text (for listings and reports)."""
        return str(self.url) if self.url is not None else str(self.path)


class SourcesConfig(_Strict):
    """The whole file: defaults plus sources, in file order."""

    defaults: SourceOptions = SourceOptions()
    sources: tuple[SourceConfig, ...] = ()

    def get(self, name: str) -> SourceConfig:
        """The source called ``name``; KeyError if there is none."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    @property
    def enabled(self) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled]


_FIELD_NAMES = sorted(
    set(SourceConfig.model_fields) | set(Timeouts.model_fields) | set(WatchOptions.model_fields) | {"defaults", "sources"}
)


def _format_error(prefix: str, error: dict[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown field"
        close = difflib.get_close_matches(str(error["loc"][-1]), _FIELD_NAMES, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    elif error["type"] == "missing":
        message = "required field missing"
    else:
        message = error["msg"].removeprefix("Value error, ")
    if not loc and ": " in message:  # model-level check that names its field itself
        loc, message = message.split(": ", 1)
    elif error["type"] == "value_error" and message.partition(": ")[0] in _FIELD_NAMES:  # ... of a nested model
        field_name, message = message.split(": ", 1)
        loc = f"{loc}.{field_name}"
    value = error.get("input")
    if error["type"] not in ("extra_forbidden", "missing") and isinstance(value, (str, int, float)) and loc:
        message += f" (got {value!r})"
    return f"{prefix}{loc}: {message}" if loc else f"{prefix}{message}"


def _merge(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **own}
    for nested in ("timeouts", "watch"):
        if isinstance(defaults.get(nested), dict) and isinstance(own.get(nested), dict):
            merged[nested] = {**defaults[nested], **own[nested]}
    if own.get("type") == "directory" and "watch" not in own:
        merged.pop("watch", None)  # a default ``watch`` is meant for feeds and sitemaps
    return merged


def parse_config(data: Any, *, base_dir: Path, origin: str = "<config>") -> SourcesConfig:
    """Validate already-parsed YAML/JSON data; relative directory paths resolve against ``base_dir``.

    Raises:
        ConfigError: listing every problem, one ``sources[i] (name): field: message`` line each.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(origin, ["top level: expected a mapping with 'defaults' and 'sources'"])
    problems = [f"{key}: unknown field" for key in data if key not in ("defaults", "sources")]
    raw_defaults = data.get("defaults") or {}
    raw_sources = data.get("sources") or []
    defaults = SourceOptions()
    if not isinstance(raw_defaults, dict):
        problems.append("defaults: expected a mapping")
        raw_defaults = {}
    else:
        try:
            defaults = SourceOptions.model_validate(raw_defaults)
        except ValidationError as exc:
            problems += [_format_error("defaults.", e) for e in exc.errors()]
            bad_keys = {e["loc"][0] for e in exc.errors() if e["loc"]}
            raw_defaults = {k: v for k, v in raw_defaults.items() if k not in bad_keys}  # reported once, here
    if not isinstance(raw_sources, list):
        problems.append("sources: expected a list")
        raw_sources = []

    sources: list[SourceConfig] = []
    first_index: dict[str, int] = {}
    for i, raw in enumerate(raw_sources):
        name = raw.get("name") if isinstance(raw, dict) else None
        prefix = f"sources[{i}] ({name or '?'}): "
        if not isinstance(raw, dict):
            problems.append(f"{prefix}expected a mapping")
            continue
        try:
            source = SourceConfig.model_validate(_merge(raw_defaults, raw))
        except ValidationError as exc:
            problems += [_format_error(prefix, e) for e in exc.errors()]
        else:
            if source.path is not None and not source.path.is_absolute():
                source = source.model_copy(update={"path": (base_dir / source.path).resolve()})
            sources.append(source)
        if isinstance(name, str):
            if name in first_index:
                problems.append(f"{prefix}name: duplicate name {name!r} (first used by sources[{first_index[name]}])")
            else:
                first_index[name] = i
    if problems:
        raise ConfigError(origin, problems)
    return SourcesConfig(defaults=defaults, sources=tuple(sources))


def missing_paths(config: SourcesConfig) -> list[str]:
    """One problem line per directory source whose folder does not exist (or is not a folder).

    Checked by ``newswire sources validate`` rather than at load time: the DAG files load the
    config when they are parsed, and one missing folder must not take every DAG down.
    """
    return [
        f"sources[{i}] ({s.name}): path: no such directory: {s.path}"
        for i, s in enumerate(config.sources)
        if s.type == "directory" and s.path is not None and not s.path.is_dir()
    ]


def load_config(path: str | Path) -> SourcesConfig:
    """Read and validate a sources file (YAML or JSON).

    Directory ``path`` values are resolved relative to the file's own directory, as in
    docker-compose, so the file can be moved together with its folders.

    Raises:
        ConfigError: unreadable file, bad YAML, or any schema problem (all of them listed).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"cannot read: {exc.strerror or exc}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(path, [f"not valid YAML: {exc}"]) from exc
    return parse_config(data, base_dir=path.resolve().parent, origin=str(path))
