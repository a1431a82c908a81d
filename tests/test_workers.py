"""The CPU-bound stages in worker processes: same results as inline, small batches stay inline, no orphans."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import pytest

from conftest import REPO
from newswire.claims import ClaimExtractor
from newswire.models import Entry, Page
from newswire.settings import Settings
from newswire.workers import MIN_PAGES_FOR_WORKERS, PAGES_PER_TASK, PageProcessor, process_pages, score_articles
from support.crashing import POISON, process_or_die
from support.newssite import PAGES


@pytest.fixture(scope="module")
def claims():
    return ClaimExtractor()


def _items(count: int) -> list[tuple[Entry, Page]]:
    """Real article pages (cycled when ``count`` exceeds them) plus one empty page at index 3."""
    files = sorted(PAGES.glob("*.html.gz"))
    items = []
    for i in range(count):
        url = f"https://news.example/{i}"
        body = b"" if i == 3 else gzip.decompress(files[i % len(files)].read_bytes())
        items.append((Entry(url=url, source="wire"),
                      Page(url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body,
                           fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))))
    return items


def _summary(processed):
    return [(p.entry.url, p.outcome and p.outcome.reason, p.article and p.article.text,
             p.fingerprint and p.fingerprint.band_keys) for p in processed]


def _claims_summary(claims):
    return [[(c.text, c.score, c.speaker, c.embedding is not None) for c in found] for found in claims]


def test_workers_give_the_inline_results(claims):
    items = _items(MIN_PAGES_FOR_WORKERS + 6)
    inline = [p for i in range(0, len(items), PAGES_PER_TASK) for p in process_pages(items[i:i + PAGES_PER_TASK]).items]
    articles = [p.article for p in inline if p.article]
    texts = [(a.text, a.language) for a in articles]
    # Inline over the same sub-batches the pool gets: the int8 model's scores depend on the
    # sentences batched together (see newswire.claims.model), so the grouping must match.
    inline_claims = [found for i in range(0, len(texts), PAGES_PER_TASK)
                     for found in score_articles(texts[i:i + PAGES_PER_TASK], claims).claims]
    with PageProcessor(claims, workers=2) as processor:
        pending = processor.submit(items, batch_size=len(items))
        assert processor._pool is not None and len(pending.parts) == -(-len(items) // PAGES_PER_TASK)
        pooled = [p for batch in pending.results() for p in batch.items]
        scores = processor.score([p.article for p in pooled if p.article])
        assert len(scores.parts) == -(-len(articles) // PAGES_PER_TASK)  # the claims were scored in the pool too
        pooled_claims = scores.results()
        worker_pids = {pid for pid in processor._pool._processes}
    assert _summary(pooled) == _summary(inline)
    assert _claims_summary(pooled_claims.claims) == _claims_summary(inline_claims)
    assert set(pooled_claims.seconds) == {"claims"}
    assert worker_pids and os.getpid() not in worker_pids
    assert pooled[3].outcome.reason == "empty" and pooled[3].article is None
    assert len(articles) == len(items) - 1 and sum(len(found) for found in pooled_claims.claims) > 0


def test_a_page_that_kills_its_worker_fails_alone():
    """The dead worker breaks every future of the pool; the chunk is re-run page by page in a new pool."""
    items = _items(MIN_PAGES_FOR_WORKERS + 2)
    poison_at = 10
    entry, page = items[poison_at]
    items[poison_at] = (Entry(url=entry.url + POISON, source=entry.source), page)
    with PageProcessor(None, workers=2, task=process_or_die) as processor:
        first = processor.submit(items, batch_size=len(items))
        processed = [p for batch in first.results() for p in batch.items]
        # the pool works again afterwards
        again = [p for batch in processor.submit(items[:poison_at], batch_size=len(items)).results()
                 for p in batch.items]
    assert [p.entry.url for p in processed] == [e.url for e, _ in items]
    crashed = [p for p in processed if p.failed]
    assert [(p.entry.url, p.outcome.reason) for p in crashed] == [(items[poison_at][0].url, "worker-crashed")]
    assert sum(p.article is not None for p in processed) == len(items) - 2  # all but the poison and the empty page
    assert sum(p.article is not None for p in again) == poison_at - 1


def test_small_batches_run_inline(claims):
    items = _items(5)
    with PageProcessor(claims, workers=2) as processor:
        [batch] = processor.submit(items, batch_size=len(items)).results()
        articles = [p.article for p in batch.items if p.article]
        scored = processor.score(articles).results()
        assert processor._pool is None
    assert [p.entry.url for p in batch.items] == [e.url for e, _ in items]
    assert set(batch.seconds) == {"extract", "fingerprint"}
    assert set(scored.seconds) == {"claims"} and len(scored.claims) == len(articles) == 4


def test_off_the_main_thread_even_small_batches_go_to_the_workers():
    """The CPU budget is a signal, which only the main thread takes: a source thread of `newswire run` must
    not extract inline, unbounded, so its small batches run in the workers, under their budget and backstop."""
    from concurrent.futures import ThreadPoolExecutor

    items = _items(5)
    with PageProcessor(None, workers=2) as processor:
        with ThreadPoolExecutor(max_workers=1) as thread:
            batches = thread.submit(lambda: processor.submit(items, batch_size=len(items)).results()).result()
        started = processor._pool is not None
    assert started
    assert [p.entry.url for b in batches for p in b.items] == [e.url for e, _ in items]


def test_without_a_claim_model_every_article_gets_no_claims():
    items = _items(5)
    with PageProcessor(None, workers=1) as processor:
        [batch] = processor.submit(items, batch_size=len(items)).results()
        scored = processor.score([p.article for p in batch.items if p.article]).results()
    assert scored.claims == [[], [], [], []] and scored.seconds == {}


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    """SIGKILL gives the pool no chance to stop its workers: they notice and exit on their own."""
    pids_file = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import time
        from datetime import datetime, timezone
        from newswire.models import Entry, Page
        from newswire.workers import PageProcessor
        if __name__ == "__main__":
            processor = PageProcessor(None, workers=2)
            body = b"<html><body><article><p>" + b"A sentence of news. " * 40 + b"</p></article></body></html>"
            items = [(Entry(url=f"https://x.example/{{i}}", source="s"),
                      Page(url="https://x.example/", final_url="https://x.example/", status=200, headers={{}},
                           body=body, fetched_at=datetime.now(timezone.utc))) for i in range(40)]
            processor.submit(items, batch_size=len(items)).results()
            open({str(pids_file)!r}, "w").write(" ".join(map(str, processor._pool._processes)))
            time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while not (pids_file.exists() and pids_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [int(p) for p in pids_file.read_text().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_workers_start_under_a_main_script_that_cannot_be_imported_again(tmp_path):
    """Inside an Airflow task ``__main__`` is the ``airflow`` command, which fails when a spawned worker
    imports it again; the workers must start without it (found running the DAG under LocalExecutor)."""
    script = tmp_path / "main_script.py"
    script.write_text(textwrap.dedent("""
        if __name__ != "__main__":
            raise SystemExit("this script must not be imported by the workers")
        import json
        from datetime import datetime, timezone
        from newswire.models import Entry, Page
        from newswire.workers import PageProcessor
        body = b"<html><body><article><p>" + b"A sentence of news about the harbour. " * 40 + b"</p></article></body></html>"
        items = [(Entry(url=f"https://x.example/{i}", source="s"),
                  Page(url=f"https://x.example/{i}", final_url=f"https://x.example/{i}", status=200, headers={},
                       body=body, fetched_at=datetime.now(timezone.utc))) for i in range(30)]
        with PageProcessor(None, workers=2) as processor:
            done = [p for batch in processor.submit(items, batch_size=30).results() for p in batch.items]
            started = processor._pool is not None
        print(json.dumps({"started": started, "articles": sum(p.article is not None for p in done),
                          "crashed": sum(p.failed for p in done)}))
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.splitlines()[-1]) == {"started": True, "articles": 30, "crashed": 0}


def test_worker_count_from_the_environment():
    assert Settings.from_env({"NEWSWIRE_WORKERS": "3"}).worker_count == 3
    assert Settings.from_env({}).worker_count == len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="NEWSWIRE_WORKERS must be a whole number"):
        Settings.from_env({"NEWSWIRE_WORKERS": "two"})
    with pytest.raises(ValueError, match="NEWSWIRE_WORKERS must be 0"):
        Settings.from_env({"NEWSWIRE_WORKERS": "-1"})


def test_extract_many_matches_extract_for_one_text(claims):
    text = gzip.decompress(sorted(PAGES.glob("*.html.gz"))[0].read_bytes()).decode("utf-8", "replace")
    from newswire.extract import extract_html

    article = extract_html(text.encode(), url="https://news.example/a")
    [many] = claims.extract_many([(article.text, "en")])
    assert many == claims.extract(article.text, language="en") and many
    assert claims.extract_many([(article.text, "de"), ("", None)]) == [[], []]
