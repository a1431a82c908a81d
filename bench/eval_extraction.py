#!/usr/bin/env python3
"""Extraction quality of newswire against plain trafilatura, on the same pages in one run.

    .venv/bin/python bench/eval_extraction.py --data ../shared/data/article-extraction-benchmark
    .venv/bin/python bench/eval_extraction.py --data ../shared/data/trafilatura-eval
    .venv/bin/python bench/eval_extraction.py --data ../shared/data/neardup-news

newswire's body is what would reach the index: a page the quality gate rejects scores as an
empty extraction (recall 0 on that page), and the number of rejected pages is printed (every
page of these sets is a real article, so the target is 0).

The format of DIR is detected from its ``ground-truth.jsonl`` (or ``clusters.jsonl``):

- *article-extraction-benchmark* (rows with ``articleBody``): precision, recall and F1 over
  4-gram word shingles, computed as the origin's ``evaluate.py`` does (scrapinghub/
  article-extraction-benchmark): ``\\w+`` tokens, per-page TP/FP/FN over shingle multisets
  normalised to sum 1, precision and recall averaged over pages (pages with no predicted or
  no true shingles left out of the respective mean), F1 from the two means; 95% intervals
  by bootstrap over pages.
- *trafilatura-eval* (rows with ``with``/``without``): the origin's ``count_item``: each
  ``with`` segment found in the whitespace-normalised output is a true positive, each
  ``without`` segment found a false positive; plus title, author and date accuracy over the
  pages whose ground truth gives a non-empty value (case- and whitespace-insensitive exact
  match; authors as a set of names, whatever separates them (; , & and) and without dots;
  dates as YYYY-MM-DD).
- *neardup-news* (``clusters.jsonl`` + ``docs/``): copies and rewrites of real articles as
  text or HTML files, with no body truth; only the pages the gate rejects are counted, each
  file read as the pipeline reads a directory source (``extract_path``).

The baseline is ``trafilatura.extract(html)`` with its defaults (metadata from
``bare_extraction(html, with_metadata=True)``), run on the same pages in the same process.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "article-extraction-benchmark"

# --- article-extraction-benchmark scoring (as the origin's evaluate.py) -----------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    """Multiset of n-grams of ``\\w+`` tokens; a text shorter than n gives its one short tuple."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def page_counts(true: str, pred: str) -> tuple[float, float, float]:
    """Per-page (tp, fp, fn) over shingles, normalised to sum 1 so long pages weigh the same."""
    t, p = shingles(true), shingles(pred)
    tp, fp, fn = sum((t & p).values()), sum((p - t).values()), sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def aggregate(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    """Mean precision, mean recall and their F1 over pages."""
    precision = statistics.mean([_precision(*c) for c in counts if c[0] + c[1] > 0])
    recall = statistics.mean([_recall(*c) for c in counts if c[0] + c[2] > 0])
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}


def with_intervals(counts: list[tuple[float, float, float]], n_bootstrap: int, seed: int = 0) -> dict[str, float]:
    """``aggregate`` plus 1.96 standard deviations of each metric over bootstrap resamples."""
    metrics = aggregate(counts)
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {k: [] for k in metrics}
    for _ in range(n_bootstrap):
        resample = [counts[rng.randrange(len(counts))] for _ in counts]
        for key, value in aggregate(resample).items():
            samples[key].append(value)
    if n_bootstrap > 1:
        metrics.update({f"{k}_ci": 1.96 * statistics.stdev(v) for k, v in samples.items()})
    return metrics


# --- trafilatura-eval scoring (as the origin's count_item) ------------------------------


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def segment_counts(item: dict, result: str | None) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of one page's ``with``/``without`` segments in the output."""
    out = _ws(result) if isinstance(result, str) else None
    tp = sum(1 for w in item["with"] if out is not None and _ws(w) in out)
    fp = sum(1 for w in item["without"] if out is not None and _ws(w) in out)
    return tp, fp, len(item["with"]) - tp, len(item["without"]) - fp


def segment_scores(rows: list[tuple[int, int, int, int]]) -> dict[str, float]:
    tp, fp, fn, tn = (sum(r[i] for r in rows) for i in range(4))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }


def _meta_norm(value: object) -> str:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return _ws(unicodedata.normalize("NFC", str(value or ""))).casefold()


_NAME_SEPARATORS = re.compile(r"\s*(?:;|,|&|\band\b|\bund\b)\s*")


def _authors_norm(value: object) -> list[str]:
    """Author names as a sorted list: separators (; , & and und) and dots do not count."""
    names = _NAME_SEPARATORS.split(_meta_norm(value).replace(".", " "))
    return sorted(_ws(n) for n in names if n.strip())


# --- runners ----------------------------------------------------------------------------


def newswire_run(html: bytes, url: str | None) -> dict:
    from newswire.extract import extract_html

    article = extract_html(html, url=url)
    return {
        "text": "" if article.reason else article.text,  # a rejected page never reaches the index
        "title": article.title,
        "author": "; ".join(article.authors),
        "date": article.published.date().isoformat() if article.published else "",
        "reason": article.reason,
    }


def trafilatura_run(html: bytes, url: str | None) -> dict:
    import trafilatura

    return {"text": trafilatura.extract(html, url=url) or ""}


def trafilatura_meta_run(html: bytes, url: str | None) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return {"text": "", "title": "", "author": "", "date": ""}
    return {"text": doc.text or "", "title": doc.title or "", "author": doc.author or "", "date": doc.date or ""}


Runner = Callable[[bytes, str | None], dict]


def eval_neardup(data_dir: Path, worst: int) -> dict:
    """Pages of neardup-news the quality gate rejects (all are real articles)."""
    from newswire.extract import extract_path

    rows = [json.loads(line) for line in (data_dir / "clusters.jsonl").open(encoding="utf-8") if line.strip()]
    files = {p.stem: p for p in (data_dir / "docs").iterdir()}
    rejected = []
    for row in rows:
        article = extract_path(files[row["doc"]])
        if article.reason:
            rejected.append((row, article))
    print(f"newswire     pages the gate rejected: {len(rejected)} of {len(rows)}")
    for row, article in rejected[:worst]:
        print(f"    rejected {row['doc']} ({row['kind']}): {article.reason} quality={article.quality}")
    return {"newswire": {"pages": len(rows), "rejected": len(rejected)}}


def load(data_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (data_dir / "ground-truth.jsonl").open(encoding="utf-8") if line.strip()]
    for row in rows:
        with gzip.open(data_dir / row["html"], "rb") as handle:
            row["_html"] = handle.read()
        row["_url"] = row["url"] if str(row.get("url", "")).startswith("http") else None
    return rows


def detect_format(rows: list[dict]) -> str:
    first = rows[0]
    if "articleBody" in first:
        return "article-extraction-benchmark"
    if "with" in first and "without" in first:
        return "trafilatura-eval"
    raise SystemExit(f"unknown ground-truth format (keys: {sorted(first)})")


def eval_aeb(rows: list[dict], runners: dict[str, Runner], n_bootstrap: int, worst: int) -> dict:
    report = {}
    for name, run in runners.items():
        outputs = [run(r["_html"], r["_url"]) for r in rows]
        counts = [page_counts(r["articleBody"], o["text"]) for r, o in zip(rows, outputs)]
        metrics = with_intervals(counts, n_bootstrap)
        rejected = sum(1 for o in outputs if o.get("reason"))
        report[name] = metrics
        figures = "  ".join(
            f"{label}={metrics[key]:.4f}" + (f" ± {metrics[key + '_ci']:.3f}" if key + "_ci" in metrics else "")
            for label, key in (("precision", "precision"), ("recall", "recall"), ("F1", "f1"))
        )
        gate = f"  (pages the gate rejected, scored as empty: {rejected})" if "reason" in outputs[0] else ""
        print(f"{name:<12} {figures}{gate}")
        if "reason" in outputs[0]:
            metrics["rejected"] = rejected
            for r, o in zip(rows, outputs):
                if o["reason"]:
                    print(f"    rejected: {r['url']}  reason={o['reason']}")
        if worst:
            ranked = sorted(zip(counts, rows), key=lambda cr: cr[0][0])
            for c, r in ranked[:worst]:
                print(f"    P={_precision(*c):.2f} R={_recall(*c):.2f}  {r['url']}")
    return report


def eval_trafilatura(rows: list[dict], runners: dict[str, Runner], worst: int) -> dict:
    report = {}
    for name, run in runners.items():
        outputs = [run(r["_html"], r["_url"]) for r in rows]
        scores = segment_scores([segment_counts(r, o["text"]) for r, o in zip(rows, outputs)])
        line = (
            f"{name:<12} body: precision={scores['precision']:.4f} recall={scores['recall']:.4f} "
            f"accuracy={scores['accuracy']:.4f} F1={scores['f1']:.4f}"
        )
        for field in ("title", "author", "date"):
            if field not in outputs[0]:
                continue
            pairs = [(r["expected_metadata"].get(field), o.get(field)) for r, o in zip(rows, outputs)]
            pairs = [(e, o) for e, o in pairs if e]
            same = (lambda e, o: _authors_norm(e) == _authors_norm(o)) if field == "author" else (
                lambda e, o: _meta_norm(e) == _meta_norm(o)
            )
            hits = sum(1 for e, o in pairs if same(e, o))
            scores[f"{field}_accuracy"] = hits / len(pairs) if pairs else 0.0
            line += f"  {field}={hits}/{len(pairs)} ({scores[f'{field}_accuracy']:.3f})"
        if "reason" in outputs[0]:
            scores["rejected"] = sum(1 for o in outputs if o["reason"])
            line += f"  rejected={scores['rejected']}"
        print(line)
        report[name] = scores
        for r, o in zip(rows, outputs):
            if o.get("reason"):
                print(f"    rejected: {r['url']}  reason={o['reason']}")
        if worst and "reason" in outputs[0]:
            misses = [(r, o) for r, o in zip(rows, outputs) if segment_counts(r, o["text"])[2]]
            for r, o in misses[:worst]:
                print(f"    missed segments: {r['url']}  reason={o['reason']}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder (ground-truth.jsonl + html/)")
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages of each system")
    parser.add_argument("--only", choices=("newswire", "trafilatura"), help="run one system only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    if (args.data / "clusters.jsonl").exists():
        print(f"neardup-news from {args.data}")
        report = eval_neardup(args.data, args.worst or 20)
        if args.json:
            args.json.write_text(json.dumps({"dataset": "neardup-news", "systems": report}, indent=2))
        return 0
    rows = load(args.data)
    kind = detect_format(rows)
    print(f"{kind}: {len(rows)} pages from {args.data}")
    if kind == "article-extraction-benchmark":
        runners = {"newswire": newswire_run, "trafilatura": trafilatura_run}
    else:
        runners = {"newswire": newswire_run, "trafilatura": trafilatura_meta_run}
    if args.only:
        runners = {args.only: runners[args.only]}
    if kind == "article-extraction-benchmark":
        report = eval_aeb(rows, runners, args.n_bootstrap, args.worst)
        key = "f1"
    else:
        report = eval_trafilatura(rows, runners, args.worst)
        key = "f1"
    if len(report) == 2:
        diff = report["newswire"][key] - report["trafilatura"][key]
        print(f"F1 newswire - trafilatura: {diff:+.4f}  (ratio {report['newswire'][key] / report['trafilatura'][key]:.4f})")
    if args.json:
        args.json.write_text(json.dumps({"dataset": kind, "pages": len(rows), "systems": report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
