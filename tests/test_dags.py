"""The DAG files parse cleanly, look up no connection at parse time, and follow the house rules."""

from __future__ import annotations

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "newswire_ingest" in dagbag.dag_ids
    assert "newswire_maintenance" in dagbag.dag_ids


def test_one_scheduled_dag_per_schedule_in_the_config(dagbag):
    from newswire.airflow_support import load_sources, schedule_groups, schedule_slug

    schedules = {s for s in schedule_groups(load_sources()) if s is not None}
    scheduled = {d.dag_id: d for d in dagbag.dags.values() if d.dag_id.startswith("newswire_ingest_")}
    assert {schedule_slug(s) for s in schedules} == {i.removeprefix("newswire_ingest_") for i in scheduled}
    assert type(dagbag.dags["newswire_ingest"].timetable).__name__ == "NullTimetable"  # manual and backfills


@pytest.mark.parametrize("dag_id", ["newswire_ingest", "newswire_maintenance"])
def test_dags_follow_the_house_rules(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert "newswire" in dag.tags
    assert dag.doc_md and len(dag.doc_md) > 100
    assert all(t.retries >= 1 for t in dag.tasks)


def test_ingest_maps_one_task_per_source(dagbag):
    dag = dagbag.dags["newswire_ingest"]
    assert {t.task_id for t in dag.tasks} == {"prepare_indices", "list_sources", "ingest_source", "reconcile", "report"}
    assert dag.get_task("reconcile").trigger_rule == "all_done"
    assert dag.get_task("report").trigger_rule == "all_done"
