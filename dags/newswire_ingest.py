"""
### newswire ingestion

Fetches the sources in `config/sources.yaml` (or `$NEWSWIRE_SOURCES`), cleans their
articles, scores check-worthy claims, clusters near-duplicates and indexes everything
into Elasticsearch (connection `newswire_es`).

* `list_sources` reads the config **at run time**: a source added to the file gets its
  own mapped `ingest_source` task on the next run, no code change.
* `ingest_source` runs once per source (dynamic task mapping), so one broken source never
  fails the others. It returns a small report (counts, errors, timings), never articles.
* `reconcile` merges duplicate clusters across sources fetched in parallel.
* `report` writes the run document that the Kibana dashboard "Ingestion overview" reads.

`newswire_ingest` takes every enabled source and has no schedule: trigger it by hand or
backfill it. One `newswire_ingest_<schedule>` DAG per schedule in the config runs the
sources that carry that schedule. Sources with `watch:` are not scheduled: the DAG
`newswire_stream` ingests them when their feed changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag

from newswire.airflow_support import MANUAL, load_sources, schedule_groups, schedule_slug, task_timeout
from newswire.airflow_tasks import ALL_SOURCES, DEFAULT_ARGS, ingest_flow


def build_ingest_dag(dag_id: str, schedule: str | None, selects: str | None, execution_timeout: timedelta):
    """An ingestion DAG over the enabled sources whose schedule is ``selects`` (``ALL_SOURCES``: all).

    ``execution_timeout`` bounds every task (from the sources' ``task_timeout``): a stalled
    task fails and is retried instead of holding its slot for ever.
    """

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "execution_timeout": execution_timeout},
        tags=["newswire", "ingest"],
        doc_md=__doc__,
    )
    def ingest():
        ingest_flow(selects)

    return ingest()


_config = load_sources()
build_ingest_dag("newswire_ingest", None, ALL_SOURCES, task_timeout(_config.enabled))
for _schedule, _sources in schedule_groups(_config).items():
    if schedule_slug(_schedule) != MANUAL:
        build_ingest_dag(f"newswire_ingest_{schedule_slug(_schedule)}", _schedule, _schedule, task_timeout(_sources))
