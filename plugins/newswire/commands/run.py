"""``newswire run`` (the pipeline once, no scheduler) and ``newswire demo`` (the main job through Airflow)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from newswire.settings import PROJECT_ROOT, Settings

AIRFLOW_HOME = PROJECT_ROOT / ".airflow"
DEMO_QUERY = "Palmyra"


def register(subparsers) -> None:
    run = subparsers.add_parser("run", help="run the whole pipeline once, without Airflow (for debugging)")
    run.add_argument("--config", type=Path, help="sources file (default: config/sources.yaml)")
    run.add_argument("--json", action="store_true", help="print the run report as JSON")
    run.set_defaults(handler=_run)

    demo = subparsers.add_parser(
        "demo", help="start a local Elasticsearch, run the ingestion DAG once through Airflow, show a search"
    )
    demo.add_argument("--config", type=Path, help="sources file (default: config/sources.yaml)")
    demo.add_argument("--query", default=DEMO_QUERY, help=f"the sample search (default: {DEMO_QUERY!r})")
    demo.add_argument("--standalone", action="store_true",
                      help="then keep running: Airflow scheduler + UI (airflow standalone) for recurring runs")
    demo.set_defaults(handler=_demo)


def _settings(config: Path | None) -> Settings:
    settings = Settings.from_env()
    if config is not None:
        settings = replace(settings, sources_path=config)
    return settings


def _run(args: argparse.Namespace) -> int:
    from newswire.config import ConfigError, load_config
    from newswire.models import to_dict
    from newswire.pipeline import run_once, summary_lines

    settings = _settings(args.config)
    try:
        config = load_config(settings.sources_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    run = run_once(config, settings)
    if args.json:
        print(json.dumps(to_dict(run), indent=2))
    else:
        print("\n".join(summary_lines(run)))
    return 1 if run.sources and all(r.status == "failed" for r in run.sources) else 0


def _local_elasticsearch() -> str:
    """``$ELASTICSEARCH_URL`` if set, else the local server (started now if needed)."""
    from newswire import es_local

    if url := os.environ.get("ELASTICSEARCH_URL"):
        return url
    info = es_local.load_state()
    if info is None:
        port = 9200 if not es_local.port_in_use(9200) else es_local.free_port()
        print(f"starting a local Elasticsearch {es_local.es_version()} on 127.0.0.1:{port} ...", flush=True)
        info = es_local.start(port=port, die_with_parent=False)
        es_local.save_state(info)
    print(f"Elasticsearch {es_local.server_version(info.url)} at {info.url} (stop it with: newswire es stop)")
    return info.url


def airflow_env(es_url: str, sources: Path) -> dict[str, str]:
    """The environment for a local Airflow: its home in .airflow/, this repo's DAGs, the ES connection."""
    from urllib.parse import urlsplit

    parts = urlsplit(es_url)
    connection = {"conn_type": "elasticsearch", "host": parts.hostname, "port": parts.port or 9200,
                  "schema": parts.scheme}
    if parts.username:
        connection.update(login=parts.username, password=parts.password or "")
    env = os.environ.copy()
    env.update({
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_NEWSWIRE_ES": json.dumps(connection),
        "NEWSWIRE_SOURCES": str(sources.resolve()),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    env.pop("ELASTICSEARCH_URL", None)  # inside Airflow the connection is the one source of truth
    return env


def _demo(args: argparse.Namespace) -> int:
    from newswire import es_local
    from newswire.config import ConfigError, load_config

    settings = _settings(args.config)
    try:
        load_config(settings.sources_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        es_url = _local_elasticsearch()
    except es_local.LocalESError as exc:
        print(f"newswire demo: {exc}", file=sys.stderr)
        return 1
    env = airflow_env(es_url, settings.sources_path)
    airflow = str(Path(sys.executable).parent / "airflow")
    AIRFLOW_HOME.mkdir(exist_ok=True)
    log_file = AIRFLOW_HOME / "demo-run.log"
    print("preparing Airflow's database (.airflow/) ...", flush=True)
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    print(f"running the DAG newswire_ingest through Airflow (log: {log_file}) ...", flush=True)
    with open(log_file, "w") as log:
        proc = subprocess.run([airflow, "dags", "test", "newswire_ingest"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print("\n".join(log_file.read_text().splitlines()[-30:]), file=sys.stderr)
        print(f"newswire demo: the DAG run failed (exit {proc.returncode}); full log in {log_file}", file=sys.stderr)
        return 1
    _print_outcome(replace(settings, es_url=es_url), args.query)
    if args.standalone:
        print("starting Airflow standalone (UI on http://127.0.0.1:8080; admin password in .airflow/); Ctrl-C stops it")
        env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "False"  # DAGs created from now on start active
        activate_bundled_dags(airflow, env)  # and those that exist already (created paused by `make demo`)
        return subprocess.call([airflow, "standalone"], env=env)
    return 0


#: Every DAG this repository ships has an id starting with this.
BUNDLED_DAGS = "^newswire_"


def activate_bundled_dags(airflow: str, env: dict[str, str]) -> None:
    """Unpause the bundled DAGs in Airflow's database, whatever ran before.

    Airflow creates a DAG paused by default, and ``DAGS_ARE_PAUSED_AT_CREATION`` only acts on
    DAGs it has not seen yet: after ``make demo`` every DAG already exists, paused, and no
    scheduled run would ever happen. The DAGs are serialised first, so this also covers
    those the demo never parsed. (Pause one again with ``airflow dags pause <dag_id>``.)
    """
    subprocess.run([airflow, "dags", "reserialize"], env=env, check=True, capture_output=True)
    subprocess.run([airflow, "dags", "unpause", "--treat-dag-id-as-regex", "-y", BUNDLED_DAGS], env=env,
                   check=True, capture_output=True)


def _print_outcome(settings: Settings, query: str) -> None:
    """The latest run's per-source table and a sample search, read back from Elasticsearch."""
    from newswire.index.search import search_articles
    from newswire.pipeline import latest_run, summary_lines

    run = latest_run(settings)
    if run is not None:
        print(f"\nrun {run.run_id}: per-source summary")
        print("\n".join(summary_lines(run)))
    with settings.es_client() as es:
        result = search_articles(es, query, prefix=settings.index_prefix, size=3)
    print(f"\nsample search: {query!r} -> {result.total} article(s)")
    for hit in result.hits:
        print(f"  [{hit.doc.get('source')}] {hit.doc.get('title')}")
        for fragment in next(iter(hit.highlights.values()), [])[:1]:
            print(f"      ... {fragment} ...")
