"""What a stream run does around the ordinary pipeline: take the pending sources, consume their marks."""

from __future__ import annotations

from newswire import pipeline
from newswire.config import SourceConfig, SourcesConfig
from newswire.models import SourceReport
from newswire.settings import Settings
from newswire.watch.pending import mark_ingested, pending_sources, read_marks

UNFINISHED = ("failed", "skipped")  # the source's entries were not read: its mark stays pending


def watched_names(config: SourcesConfig) -> list[str]:
    return [s.name for s in config.enabled if s.watch is not None]


def pending_names(config: SourcesConfig, settings: Settings) -> list[str]:
    """The watched sources whose changes are not ingested yet (whatever events led to this run)."""
    with pipeline.es_session(settings) as es:
        return pending_sources(es, watched_names(config), settings.index_prefix)


def ingest_pending(source: SourceConfig, settings: Settings, *, stages: pipeline.Stages | None = None) -> SourceReport:
    """Ingest one changed source, then mark its changes up to the mark read *before* it began as ingested.

    A mark the watcher sets while this runs is newer than the one consumed, so the source stays
    pending for the next run. A source that failed or was skipped (backoff) keeps its mark.
    """
    with pipeline.es_session(settings) as es:
        (mark,) = read_marks(es, [source.name], settings.index_prefix)
    report = pipeline.ingest_source(source, settings, stages=stages)
    if report.status not in UNFINISHED:
        with pipeline.es_session(settings) as es:
            mark_ingested(es, mark, settings.index_prefix)
    return report
