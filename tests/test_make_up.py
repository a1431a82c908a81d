"""``make up`` leaves every bundled DAG active, even after ``make demo`` created them paused.

Real Airflow CLI on a throwaway home: the DAGs are created paused first (Airflow's default, what
``airflow dags test`` in ``make demo`` leaves behind), then ``activate_bundled_dags`` (what
``newswire demo --standalone`` runs before the scheduler starts) must unpause all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from newswire.commands.run import activate_bundled_dags, airflow_env

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _paused(env: dict[str, str]) -> dict[str, bool]:
    out = subprocess.run([AIRFLOW, "dags", "list", "-o", "json"], env=env, check=True, capture_output=True,
                         text=True, timeout=300)
    listing = next(line for line in out.stdout.splitlines() if line.startswith("[{"))  # log lines aside
    rows = json.loads(listing)
    return {row["dag_id"]: str(row["is_paused"]).lower() == "true" for row in rows}


def test_bundled_dags_are_active_after_demo_left_them_paused(tmp_path):
    env = airflow_env("http://127.0.0.1:9200", REPO / "config" / "sources.yaml")
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"})
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    subprocess.run([AIRFLOW, "dags", "reserialize"], env=env, check=True, capture_output=True, timeout=600)
    before = _paused(env)
    assert before and all(before.values())  # as `make demo` leaves them

    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "False"  # what `make up` sets, which alone is not enough
    activate_bundled_dags(AIRFLOW, env)

    after = _paused(env)
    assert set(after) == set(before) and {d for d in after if d.startswith("newswire_")} == set(after)
    assert not any(after.values())
