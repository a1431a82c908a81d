"""The ingestion tasks, shared by the scheduled DAGs (``newswire_ingest*``) and the stream DAG.

:func:`ingest_flow` wires them inside a ``@dag`` function: ``prepare_indices`` and
``list_sources`` -> mapped ``ingest_source`` -> ``reconcile`` -> ``report``. The DAG files stay
thin and build their DAGs themselves (Airflow records the calling file as the DAG's file).
Heavy imports stay inside the tasks, so parsing a DAG file loads neither Elasticsearch nor models.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import task
from airflow.sdk.exceptions import AirflowFailException

from newswire.airflow_support import load_sources, settings_from_airflow

ALL_SOURCES = "*"  # every enabled source
PENDING = "pending"  # the stream: watched sources with changes not yet ingested
DEFAULT_ARGS = {
    "owner": "newswire",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


@task
def prepare_indices() -> None:
    from newswire import pipeline

    pipeline.prepare_indices(settings_from_airflow())


@task
def list_sources(selects: str | None) -> list[str]:
    """The run's sources: all (``*``), those of one schedule, or (``pending``) watched sources that changed."""
    config = load_sources()
    if selects == PENDING:
        from newswire.watch.stream import pending_names

        return pending_names(config, settings_from_airflow())
    return [s.name for s in config.enabled if selects == ALL_SOURCES or s.schedule == selects]


@task(max_active_tis_per_dagrun=4)
def ingest_source(name: str, streamed: bool = False) -> dict:
    from newswire import pipeline

    source, settings = load_sources().get(name), settings_from_airflow()
    if streamed:
        from newswire.watch.stream import ingest_pending

        return ingest_pending(source, settings).to_dict()
    return pipeline.ingest_source(source, settings).to_dict()


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


def ingest_flow(selects: str | None) -> None:
    """Wire the ingestion tasks in the current DAG for the sources ``selects`` names (see :func:`list_sources`)."""
    names = list_sources(selects)
    reports = ingest_source.partial(streamed=selects == PENDING).expand(name=names)
    prepare_indices() >> reports  # beside list_sources, not before it: one task start less before the ingestion
    merged = reconcile(reports)
    report(names, reports, merged)
