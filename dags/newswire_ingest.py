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
sources that carry that schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException

from newswire.airflow_support import (
    MANUAL, load_sources, schedule_groups, schedule_slug, settings_from_airflow, task_timeout,
)

ALL_SOURCES = "*"
DEFAULT_ARGS = {
    "owner": "newswire",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


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
        @task
        def prepare_indices() -> None:
            from newswire import pipeline

            pipeline.prepare_indices(settings_from_airflow())

        @task
        def list_sources() -> list[str]:
            return [s.name for s in load_sources().enabled if selects == ALL_SOURCES or s.schedule == selects]

        @task(max_active_tis_per_dagrun=4)
        def ingest_source(name: str) -> dict:
            from newswire import pipeline

            report = pipeline.ingest_source(load_sources().get(name), settings_from_airflow())
            return report.to_dict()

        @task(trigger_rule="all_done")
        def reconcile(reports: list[dict], dag_run=None) -> int:
            from newswire import pipeline

            return pipeline.reconcile_run(settings_from_airflow(), since=dag_run.start_date)

        @task(trigger_rule="all_done")
        def report(names: list[str], reports: list[dict], merged: int | None, dag_run=None) -> dict:
            from newswire import pipeline

            run = pipeline.write_report(
                settings_from_airflow(), dag_run.run_id, dag_run.start_date,
                pipeline.reports_for(names, reports), merged or 0,
            )
            print("\n".join(pipeline.summary_lines(run)))
            lost = [r.source for r in run.sources if r.error == pipeline.TASK_FAILED]
            if lost:  # reported above and in the index; the run itself must show red in the UI
                raise AirflowFailException(f"sources whose task failed after its retries: {', '.join(lost)}")
            return {"sources": len(run.sources), "indexed": sum(r.indexed for r in run.sources)}

        names = list_sources()
        prepare_indices() >> names
        reports = ingest_source.expand(name=names)
        merged = reconcile(reports)
        report(names, reports, merged)

    return ingest()


_config = load_sources()
build_ingest_dag("newswire_ingest", None, ALL_SOURCES, task_timeout(_config.enabled))
for _schedule, _sources in schedule_groups(_config).items():
    if schedule_slug(_schedule) != MANUAL:
        build_ingest_dag(f"newswire_ingest_{schedule_slug(_schedule)}", _schedule, _schedule, task_timeout(_sources))
