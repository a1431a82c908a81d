"""
### newswire maintenance

Daily upkeep of the Elasticsearch side, each step idempotent:

* `setup`: index templates, versioned indices and aliases; the Kibana saved objects
  (data views, saved searches, the "Ingestion overview" dashboard) when `KIBANA_URL` is set.
* `reindex_outdated`: when a mapping version changed, a client-side reindex (scan and bulk)
  into the new index version, then an atomic alias swap.
* `rescore_claims`: when the claim model changed, re-scores the stored articles' claims.
* `backfill_claim_groups`: sentence embeddings for claims stored without one (or by an
  older embedding model), then their claim groups; batched and resumable.
* `retention`: deletes articles (and their claims) older than `NEWSWIRE_RETENTION_DAYS`;
  off unless that variable is set.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, task

from newswire.airflow_support import settings_from_airflow


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "newswire", "retries": 2, "retry_delay": timedelta(minutes=2),
                  "retry_exponential_backoff": True},
    tags=["newswire", "maintenance"],
    doc_md=__doc__,
)
def newswire_maintenance():
    @task
    def setup() -> dict:
        from newswire import maintenance

        return maintenance.setup(settings_from_airflow())

    @task
    def reindex_outdated() -> dict:
        from newswire import maintenance

        return maintenance.reindex_outdated(settings_from_airflow())

    @task
    def rescore_claims() -> int:
        from newswire import maintenance

        return maintenance.rescore_claims(settings_from_airflow())

    @task
    def backfill_claim_groups() -> dict:
        from newswire import maintenance

        return maintenance.backfill_claim_groups(settings_from_airflow())

    @task
    def retention() -> int:
        from newswire import maintenance

        return maintenance.apply_retention(settings_from_airflow())

    setup() >> reindex_outdated() >> rescore_claims() >> backfill_claim_groups() >> retention()


newswire_maintenance()
