"""Per-article dedup cost against Elasticsearch at 1k, 10k and 100k indexed articles.

Usage: .venv/bin/python bench/bench_dedup_scale.py [--sizes 1000,10000,100000] [--queries 300]

Uses $ELASTICSEARCH_URL, or starts a throwaway local server (``newswire.es_local``).
Articles are synthetic fingerprint documents (no text): random MinHash
signatures with their real band keys, one in ten a copy of an earlier article
(about 85% of its signature kept), so the index holds clusters. There is one
index per size (1k, 10k, 100k; each holds the smaller ones' documents), and the
same query articles (half new stories, half copies of articles in the first 1k)
go through the dedup step the pipeline runs per article: one candidate query
(``find_candidates``) and verification of every candidate (``is_duplicate``).
The sizes are measured in turn, round after round, so load from other processes
hits them alike. Prints the per-article cost at each size as a ratio to the first size (target
at 100k: <= 1.5x) and this process's resident memory (should stay flat: the
LSH index lives in Elasticsearch, not in the worker).
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

import numpy as np
import psutil
from elasticsearch import Elasticsearch, helpers

from newswire.es_local import server_version
from newswire.dedup import DEFAULT_PARAMS, DedupParams, is_duplicate
from newswire.dedup.fingerprint import band_keys
from newswire.index.admin import ensure_indices
from newswire.index.clusters import articles_alias, find_candidates, item_from_source
from newswire.models import Fingerprint

T0 = datetime(2024, 1, 1, tzinfo=UTC)
COPY_EVERY = 10
KEEP = 0.85  # share of MinHash values a synthetic copy keeps


def near_copy(rng: np.random.Generator, base: np.ndarray | None, params: DedupParams) -> np.ndarray:
    """A random MinHash signature, or a near copy of ``base`` (about KEEP of its values kept)."""
    values = rng.integers(0, 2**32 - 1, size=params.num_perm, dtype=np.uint64)
    if base is None:
        return values
    return np.where(rng.random(params.num_perm) < KEEP, base, values)


def signature(n: int, params: DedupParams) -> np.ndarray:
    """Document ``n``'s signature, regenerated on demand (nothing kept: memory stays flat).

    Every COPY_EVERY-th document copies one of the 1,000 documents before it.
    """
    rng = np.random.default_rng([1, n])
    base = None
    if n % COPY_EVERY == COPY_EVERY - 1:
        base = signature(n - 1 - int(rng.integers(0, min(n, 1000))), params)
    return near_copy(rng, base, params)


def as_fingerprint(values: np.ndarray, rng: np.random.Generator, params: DedupParams) -> Fingerprint:
    """A fingerprint around a signature: its real band keys, a random exact hash and shingle count."""
    return Fingerprint(
        exact_hash=uuid.UUID(bytes=rng.bytes(16)).hex,
        minhash=[int(v) for v in values],
        band_keys=band_keys(values, params),
        shingle_count=int(rng.integers(150, 1500)),
    )


def documents(start: int, stop: int, params: DedupParams) -> Iterator[dict]:
    """Article documents ``start..stop-1``: deterministic, generated lazily (flat memory)."""
    for n in range(start, stop):
        fp = as_fingerprint(signature(n, params), np.random.default_rng([2, n]), params)
        doc_id, stamp = f"{n:08d}", (T0 + timedelta(minutes=n)).isoformat()
        yield {
            "_id": doc_id,
            "_source": {
                "id": doc_id, "url": f"https://s{n % 50}.example.org/{n}", "source": f"s{n % 50}",
                "published": stamp, "fetched_at": stamp, "indexed_at": datetime.now(UTC).isoformat(),
                "exact_hash": fp.exact_hash, "band_keys": fp.band_keys, "minhash": fp.minhash,
                "shingle_count": fp.shingle_count, "cluster_id": doc_id, "is_canonical": True,
                "duplicate_count": 0, "copy_sources": [], "copy_urls": [],
            },
        }


def queries(count: int, params: DedupParams, seed: int) -> list[Fingerprint]:
    """Half new stories, half copies of documents among the first 1,000 (present at every size)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        base = signature(int(rng.integers(0, 1000)), params) if i % 2 else None
        out.append(as_fingerprint(near_copy(rng, base, params), rng, params))
    return out


def dedup_cost(es: Elasticsearch, prefix: str, fps: list[Fingerprint], params: DedupParams) -> tuple[float, int]:
    """Mean seconds per article for candidate query + verification, and copies found."""
    found = 0
    started = time.perf_counter()
    for fp in fps:
        candidates = find_candidates(es, fp, prefix, params=params)
        found += any(
            is_duplicate(fp, item_from_source(candidate).fingerprint, params) for candidate in candidates
        )
    return (time.perf_counter() - started) / len(fps), found


@contextlib.contextmanager
def elasticsearch_url() -> Iterator[str]:
    if url := os.environ.get("ELASTICSEARCH_URL"):
        yield url
        return
    from newswire import es_local

    with es_local.running_server() as info:
        yield info.url


def drop(es: Elasticsearch, prefix: str) -> None:
    """Delete the benchmark's indices and templates."""
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all")
    for template in es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}-*").body.get("index_templates", []):
        es.indices.delete_index_template(name=template["name"])


def build_index(es: Elasticsearch, prefix: str, size: int, params: DedupParams) -> tuple[str, float]:
    """A fresh articles index holding documents 0..size-1; returns its name and load seconds."""
    ensure_indices(es, prefix)
    index = es.indices.get_alias(name=articles_alias(prefix)).body.popitem()[0]
    started = time.perf_counter()
    actions = ({**doc, "_index": index} for doc in documents(0, size, params))
    helpers.bulk(es.options(request_timeout=300), actions, chunk_size=500)
    es.indices.refresh(index=index)
    return index, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per size; the median is kept")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark indices")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    params = DEFAULT_PARAMS
    process = psutil.Process()
    run = f"bench-dedup-{uuid.uuid4().hex[:6]}"
    prefixes = {size: f"{run}-{size}" for size in sizes}
    fps, warmup = queries(args.queries, params, seed=12345), queries(50, params, seed=54321)

    with elasticsearch_url() as url:
        es = Elasticsearch(url, request_timeout=120)
        print(f"Elasticsearch {server_version(url)} at {url}")
        print(f"params: num_perm={params.num_perm} bands={params.bands} rows={params.rows}; "
              f"{args.queries} query articles; {args.rounds} rounds, sizes measured in turn (load hits all alike)")
        try:
            rss: dict[int, float] = {}
            for size in sizes:
                index, load = build_index(es, prefixes[size], size, params)
                segments = len(es.cat.segments(index=index, format="json").body)
                print(f"  indexed {size:>7} articles in {load:6.1f}s ({segments} segments)", flush=True)
                dedup_cost(es, prefixes[size], warmup, params)
            costs: dict[int, list[float]] = {size: [] for size in sizes}
            found: dict[int, int] = {}
            for _ in range(args.rounds):
                for size in sizes:
                    cost, found[size] = dedup_cost(es, prefixes[size], fps, params)
                    costs[size].append(cost)
                    rss[size] = max(rss.get(size, 0.0), process.memory_info().rss / 2**20)
        finally:
            if not args.keep:
                for prefix in prefixes.values():
                    drop(es, prefix)
        base = sizes[0]
        base_cost = statistics.median(costs[base])
        print(f"\nper-article dedup cost (one candidate query + verification), median of {args.rounds} rounds:")
        for size in sizes:
            cost = statistics.median(costs[size])
            print(f"  {size:>7} articles: {cost * 1000:6.2f} ms  x{cost / base_cost:.2f} of {base}   "
                  f"copies found {found[size]}/{len(fps) // 2}   RSS {rss[size]:.0f} MiB (x{rss[size] / rss[base]:.2f})")
        ratio = statistics.median(costs[sizes[-1]]) / base_cost
        print(f"cost at {sizes[-1]} / cost at {base}: {ratio:.2f} (target <= 1.5: {'OK' if ratio <= 1.5 else 'ABOVE'}); "
              f"RSS at {sizes[-1]} / at {base}: {rss[sizes[-1]] / rss[base]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
