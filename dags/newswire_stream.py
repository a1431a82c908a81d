"""
### newswire stream: ingest a watched feed as soon as it announces something new

Sources with `watch: {min_interval: 30s, max_interval: 15m}` in `config/sources.yaml` (per
source or under `defaults:`) are **streamed** instead of scheduled:

* The asset `newswire_watched_feeds` has one watcher, `FeedWatchTrigger`
  (`newswire.watch.trigger`), which runs in Airflow's **triggerer**. It polls every watched
  feed or sitemap with a conditional GET, under the source's rate limit, robots.txt and
  address guard, each on its own interval: shorter while the feed keeps changing, longer
  while it stays the same (between `min_interval` and `max_interval`), never sooner than the
  server's `Cache-Control: max-age` allows, and backing off after failures or a `Retry-After`.
* It fires an event only when a feed lists entries it has not seen before, and never twice
  for the same entries. Before firing it sets the source's **pending mark** (`changed_at` in
  the source state, index `newswire-sources`).
* Each event starts this DAG. `list_sources` takes **every source with a pending mark**, not
  only those named in the event: Airflow may fold several events into one run, and marks set
  while a run is going on are taken by the next run. Then the same tasks as the scheduled
  DAGs: mapped `ingest_source` (which moves the source's `change_ingested_at` up to the mark
  it started from), `reconcile` and `report` (freshness lag p50/p95 per source in the run
  report and on the Kibana dashboard).

Cost: one conditional GET per watched feed per interval (a 304 is a few hundred bytes), plus
one ordinary ingestion run per change. See the README, "Scheduled or streaming".
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Asset, AssetWatcher, dag

from newswire.airflow_support import load_sources, sources_path, task_timeout, watched_sources
from newswire.airflow_tasks import DEFAULT_ARGS, PENDING, ingest_flow
from newswire.watch.trigger import FeedWatchTrigger, settings_digest

WATCHED = watched_sources(load_sources())

if WATCHED:
    feeds_changed = Asset(
        "newswire_watched_feeds",
        uri="newswire://watched-feeds",
        watchers=[
            AssetWatcher(
                name="newswire_feed_watch",
                trigger=FeedWatchTrigger(
                    sources_path=str(sources_path()),
                    sources=[s.name for s in WATCHED],
                    digest=settings_digest(WATCHED),
                ),
            )
        ],
    )

    @dag(
        dag_id="newswire_stream",
        schedule=[feeds_changed],
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "execution_timeout": task_timeout(WATCHED)},
        tags=["newswire", "ingest", "stream"],
        doc_md=__doc__,
    )
    def stream():
        ingest_flow(PENDING)

    stream()
