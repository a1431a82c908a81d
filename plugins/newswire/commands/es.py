"""``newswire es start|stop|status``: a local Elasticsearch for development."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("es", help="start, stop or inspect a local Elasticsearch (integ-test zip)")
    actions = parser.add_subparsers(dest="es_action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="fetch (Maven) and start a local single-node server")
    start.add_argument("--port", type=int, default=9200, help="HTTP port on 127.0.0.1 (default 9200)")
    start.add_argument("--heap", default="512m", help="JVM heap (default 512m)")
    start.set_defaults(handler=_start)
    actions.add_parser("stop", help="stop the server started by 'es start'").set_defaults(handler=_stop)
    actions.add_parser("status", help="show the server started by 'es start'").set_defaults(handler=_status)
    actions.add_parser("fetch", help="only fetch and unpack the server (for CI caches)").set_defaults(handler=_fetch)


def _start(args: argparse.Namespace) -> int:
    from newswire import es_local

    running = es_local.load_state()
    if running is not None:
        print(f"already running: {running.url} (pid {running.pid}, Elasticsearch {running.version})")
        return 0
    try:
        info = es_local.start(port=args.port, heap=args.heap, die_with_parent=False)
    except es_local.LocalESError as exc:
        print(f"newswire es start: {exc}", file=sys.stderr)
        return 1
    es_local.save_state(info)
    print(f"Elasticsearch {es_local.server_version(info.url)} running at {info.url} (pid {info.pid})")
    print(f"  export ELASTICSEARCH_URL={info.url}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from newswire import es_local

    info = es_local.load_state()
    if info is None:
        print("no local Elasticsearch is running")
        return 0
    es_local.stop(info)
    es_local.clear_state()
    print(f"stopped Elasticsearch at {info.url}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from newswire import es_local

    info = es_local.load_state()
    if info is None:
        print("not running")
        return 3
    try:
        version = es_local.server_version(info.url)
    except OSError as exc:
        print(f"process {info.pid} alive but {info.url} does not answer: {exc}")
        return 1
    print(f"running: {info.url} (pid {info.pid}, Elasticsearch {version})")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from newswire import es_local

    try:
        home = es_local.ensure_distribution()
    except es_local.LocalESError as exc:
        print(f"newswire es fetch: {exc}", file=sys.stderr)
        return 1
    print(f"Elasticsearch {es_local.es_version()} at {home}")
    return 0
