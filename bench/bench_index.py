"""The project's bulk indexer against raw ``elasticsearch.helpers.bulk`` on the same documents.

Usage: .venv/bin/python bench/bench_index.py [--docs 20000] [--rounds 3] [--data DIR]

Uses $ELASTICSEARCH_URL, or starts a throwaway local server (``newswire.es_local``).
The documents are real article documents (``article_document``) built from the
texts under DIR (default ../shared/data/neardup-news/docs, plus the repo's seeds),
each text reused under many URLs, with real MinHash fingerprints. Both writers get
the same documents, the same chunk size and a refresh at the end, into fresh
indices made from the same templates; they take turns, round after round, so load
from other processes hits both alike. Prints docs/s for each and the ratio
project / raw (target >= 0.8): the cost of deterministic ids, failure reporting,
retries and dead-lettering over the bare helper.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch, helpers

from newswire.dedup.fingerprint import fingerprint
from newswire.index import admin, bulk, names
from newswire.index.documents import article_document
from newswire.models import Article

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "neardup-news" / "docs"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def load_texts(data: Path) -> list[str]:
    paths = sorted(data.glob("*.txt")) + sorted((REPO / "seeds").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    texts = [t for t in texts if len(t.split()) > 50]
    if not texts:
        sys.exit(f"no texts under {data}")
    return texts


def build_documents(texts: list[str], count: int) -> list[dict]:
    """``count`` article documents: each text under many URLs and sources, with its fingerprint."""
    fingerprints = [fingerprint(t) for t in texts]
    docs = []
    for n in range(count):
        k = n % len(texts)
        lines = texts[k].strip().splitlines()
        url = f"https://outlet{n % 40}.example/{n}"
        article = Article(
            url=url, canonical_url=url, source=f"outlet{n % 40}", title=lines[0][:200],
            text="\n".join(lines[1:]), language="en", published=T0 + timedelta(minutes=n),
            fetched_at=T0 + timedelta(minutes=n, seconds=30), quality=0.9,
        )
        docs.append(article_document(article, fingerprints[k], indexed_at=T0 + timedelta(minutes=n, seconds=40)))
    return docs


def run_project(es: Elasticsearch, docs: list[dict], prefix: str) -> float:
    started = time.perf_counter()
    result = bulk.index_articles(es, docs, prefix)
    elapsed = time.perf_counter() - started
    assert result.indexed == len(docs) and not result.failed, result.failed[:3]
    return elapsed


def run_raw(es: Elasticsearch, docs: list[dict], prefix: str) -> float:
    target = names.alias(prefix, "articles")
    started = time.perf_counter()
    ok, errors = helpers.bulk(es, ({"_index": target, "_id": d["id"], "_source": d} for d in docs), chunk_size=500)
    es.indices.refresh(index=target)
    elapsed = time.perf_counter() - started
    assert ok == len(docs) and not errors
    return elapsed


def fresh_indices(es: Elasticsearch, prefix: str) -> None:
    es.indices.delete(index=f"{prefix}-articles-*", ignore_unavailable=True, allow_no_indices=True)
    admin.ensure_indices(es, prefix, kinds=["articles", "deadletter"])
    es.cluster.health(index=names.alias(prefix, "articles"), wait_for_status="yellow", timeout="60s")


@contextlib.contextmanager
def elasticsearch_url() -> Iterator[str]:
    if url := os.environ.get("ELASTICSEARCH_URL"):
        yield url
        return
    from newswire import es_local

    with es_local.running_server(heap="1g") as info:
        yield info.url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of .txt articles")
    args = parser.parse_args()

    texts = load_texts(args.data)
    started = time.perf_counter()
    docs = build_documents(texts, args.docs)
    mb = sum(len(str(d)) for d in docs) / 1e6
    print(f"{len(docs)} documents from {len(texts)} texts (~{mb:.0f} MB), built in {time.perf_counter() - started:.1f}s")

    with elasticsearch_url() as url:
        es = Elasticsearch(url, request_timeout=120)
        prefixes = {"project": f"bench-ix-p-{uuid.uuid4().hex[:6]}", "raw": f"bench-ix-r-{uuid.uuid4().hex[:6]}"}
        runners = {"project": run_project, "raw": run_raw}
        times: dict[str, list[float]] = {"project": [], "raw": []}
        try:
            for r in range(args.rounds):
                order = ["raw", "project"] if r % 2 == 0 else ["project", "raw"]
                for name in order:
                    fresh_indices(es, prefixes[name])
                    times[name].append(runners[name](es, docs, prefixes[name]))
                print(f"round {r + 1}: " + ", ".join(f"{n} {len(docs) / times[n][-1]:,.0f} docs/s" for n in order))
        finally:
            for prefix in prefixes.values():
                admin.drop(es, prefix)
            es.close()

    rate = {n: len(docs) / statistics.median(t) for n, t in times.items()}
    print(f"raw helpers.bulk : {rate['raw']:,.0f} docs/s (median of {args.rounds})")
    print(f"newswire indexer : {rate['project']:,.0f} docs/s (median of {args.rounds})")
    ratio = rate["project"] / rate["raw"]
    print(f"ratio project/raw: {ratio:.2f} (target >= 0.8) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
