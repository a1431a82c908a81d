"""The CPU-bound part of a batch (extract and fingerprint, then score claims), in this process or in worker processes.

Fetching and indexing wait on the network; extraction, the claim model and MinHash keep a
core busy. ``PageProcessor`` runs :func:`process_pages` (extraction and MinHash) on
sub-batches of fetched pages, and :func:`score_articles` (the claim model and the claim
vectors) on the articles that head their story, either inline or in a pool of worker
processes (one claim model per worker), so the pipeline can fetch and index one chunk while
the workers process the next. Claims are scored after dedup because a copy's claims are its
canonical's: scoring copies cost as much as scoring originals and stored nothing.

The pool uses the ``spawn`` start method: the pipeline's process holds HTTP and
Elasticsearch connections and, under Airflow, threads, none of which survive a ``fork``
safely. A worker costs a Python start-up plus a model load (about 2 s, 150 MB), so small
batches run inline; the pool starts on the first batch large enough to pay for it and is
reused until ``close``.

Each page has a processing budget (``page_timeout``, CPU seconds): a page that takes longer is
interrupted and becomes one ``too-slow`` item while the rest of its chunk goes on. The budget
is a CPU timer (``ITIMER_PROF``/``SIGPROF``), so it does not disturb Airflow's own ``SIGALRM``
execution timeout. A page stuck where no signal reaches (inside C code, off the CPU) is caught
by the parent's wall-clock backstop: the pool is killed and replaced, the chunk's pages re-run
one by one, and the page that stalls again is ``too-slow``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newswire.dedup import fingerprint
from newswire.extract import extract_page
from newswire.models import Article, Claim, Entry, Fingerprint, ItemOutcome, Page

if TYPE_CHECKING:
    from newswire.claims import ClaimExtractor
    from newswire.claims.embedding import ClaimEmbedder

log = logging.getLogger(__name__)

#: Pages per task sent to a worker: enough sentences for the claim model to batch them by
#: length across articles, few enough that the workers share a chunk evenly.
PAGES_PER_TASK = 8
#: A batch with fewer pages runs inline: starting workers costs more than they save.
MIN_PAGES_FOR_WORKERS = 24
#: Default processing budget per page, seconds of CPU (extraction of a 5 MB page takes a few).
PAGE_BUDGET = 30.0
#: Wall-clock allowance per article for scoring its claims in a worker, before the parent scores them itself.
SCORE_BUDGET = 30.0
#: Wall-clock allowance on top of the budget before the parent gives up on a worker (a busy machine).
BACKSTOP_SLACK = 60.0
#: How long fresh workers may take to start (a Python start-up and a model load, on a loaded
#: machine); never counted against a page.
WORKER_START_TIMEOUT = 300.0


def _ready() -> bool:
    """A no-op task: its result means a worker finished starting."""
    return True


class PageTooSlow(BaseException):
    """Raised inside a page's processing when its budget is spent.

    A BaseException, so the extractors' own ``except Exception`` blocks cannot swallow it.
    """


@contextmanager
def page_budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`PageTooSlow` in this thread once ``seconds`` of CPU are spent inside the block.

    Only the main thread can take signals; elsewhere (and with ``seconds`` None) the block runs
    unbounded and the parent's backstop is the limit. A handler set by someone else is put back.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):  # noqa: ARG001 - the signal handler signature
        raise PageTooSlow(f"processing passed its budget of {seconds:g}s")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _too_slow(entry: Entry, detail: str) -> "Processed":
    return Processed(entry=entry, failed=True, outcome=ItemOutcome(url=entry.url, reason="too-slow", detail=detail))


@dataclass(kw_only=True, slots=True)
class Processed:
    """One fetched page after the CPU-bound stages.

    ``article`` is set for a page that is an article (with its ``fingerprint``; claims come later);
    otherwise ``outcome`` says why not: ``skipped`` for a page that is not an article,
    ``failed`` for an extractor crash.
    """

    entry: Entry
    article: Article | None = None
    fingerprint: Fingerprint | None = None
    outcome: ItemOutcome | None = None
    failed: bool = False
    urls: tuple[str, ...] = ()  # a page that is not an article: the URLs it is known by (final, canonical)


@dataclass(kw_only=True, slots=True)
class ProcessedBatch:
    """The pages of one sub-batch, in input order, and the CPU seconds each stage took on them."""

    items: list[Processed]
    seconds: dict[str, float]


def process_pages(items: list[tuple[Entry, Page]], budget: float | None = PAGE_BUDGET) -> ProcessedBatch:
    """Extract each page and fingerprint its article; ``seconds`` holds each stage's CPU time (this thread's).

    Never raises for one bad page: an extractor crash is that page's failed outcome, a page
    whose extraction spends more than ``budget`` CPU seconds is ``too-slow``.
    """
    started = time.thread_time()
    results: list[Processed] = []
    for entry, page in items:
        try:
            with page_budget(budget):
                article = extract_page(page, entry)
        except PageTooSlow as exc:
            log.error("extraction of %s stopped: %s", entry.url, exc)
            results.append(_too_slow(entry, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - an extractor crash is one failed item
            log.exception("extraction failed for %s", entry.url)
            results.append(Processed(entry=entry, failed=True, outcome=ItemOutcome.failure(entry.url, exc)))
            continue
        if not article.is_article:
            results.append(Processed(entry=entry, outcome=ItemOutcome(url=entry.url, reason=article.reason or "not-article"),
                                     urls=(page.final_url, article.canonical_url)))
            continue
        results.append(Processed(entry=entry, article=article))
    seconds = {"extract": time.thread_time() - started}
    started = time.thread_time()
    for result in results:
        if result.article is not None:
            result.fingerprint = fingerprint(result.article.text)
    seconds["fingerprint"] = time.thread_time() - started
    return ProcessedBatch(items=results, seconds=seconds)


@dataclass(kw_only=True, slots=True)
class ScoredBatch:
    """The claims of each article of one sub-batch, in input order, and the CPU seconds each stage took."""

    claims: list[list[Claim]]
    seconds: dict[str, float]


def score_articles(texts: list[tuple[str, str | None]], claims: ClaimExtractor,
                   embedder: ClaimEmbedder | None = None) -> ScoredBatch:
    """The claims (with their sentence vectors when ``embedder`` is given) of each (text, language).

    ``seconds`` holds each stage's CPU time (this thread's: onnxruntime runs on it with one thread).

    One model call for the whole sub-batch: sentences are sorted by length across articles,
    so batches carry little padding.
    """
    started = time.thread_time()
    found = claims.extract_many(texts)
    seconds = {"claims": time.thread_time() - started}
    if embedder is not None:  # the claims' sentence vectors, for claim groups
        started = time.thread_time()
        embedder.embed_claims([c for article_claims in found for c in article_claims])
        seconds["embed"] = time.thread_time() - started
    return ScoredBatch(claims=found, seconds=seconds)


def default_workers() -> int:
    """The cores this process may use (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# Per worker process: the claim extractor its initializer loaded. A module global because
# that is how a ProcessPoolExecutor worker keeps state between tasks; it never exists in
# the parent process.
_worker_claims: ClaimExtractor | None = None
_worker_embedder: ClaimEmbedder | None = None


def _init_worker(with_claims: bool, with_embedder: bool = False) -> None:
    global _worker_claims, _worker_embedder
    # A killed task (SIGKILL leaves the pool no chance to stop its workers) must not leave
    # them behind: each worker exits once its parent is gone.
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    if with_claims:
        from newswire.claims import ClaimExtractor

        _worker_claims = ClaimExtractor()
    if with_embedder:
        from newswire.claims.embedding import ClaimEmbedder

        _worker_embedder = ClaimEmbedder()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _process_in_worker(items: list[tuple[Entry, Page]], budget: float | None = PAGE_BUDGET) -> ProcessedBatch:
    return process_pages(items, budget)


def _score_in_worker(texts: list[tuple[str, str | None]]) -> ScoredBatch:
    return score_articles(texts, _worker_claims, _worker_embedder)


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start processes without them re-running this process's ``__main__``.

    A ``spawn`` child imports the parent's main script before it runs anything. Inside an
    Airflow task that script is the ``airflow`` command, whose import sets Airflow up and
    fails there (tasks get no metadata-database URL), so every worker died at start. The
    workers need nothing from ``__main__``: their code lives in this package.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class PendingChunk:
    """A chunk handed to ``PageProcessor.submit``: its parts, each a sub-batch and its future, and the pool
    they went to (None when processed inline)."""

    def __init__(self, processor: "PageProcessor", pool: ProcessPoolExecutor | None,
                 parts: list[tuple[list[tuple[Entry, Page]], Future[ProcessedBatch]]],
                 budget: float | None = None, deadline: float | None = None):
        self.processor = processor
        self.pool = pool
        self.parts = parts
        self.budget = budget
        self.deadline = deadline  # time.monotonic() by which every part should be done (the backstop)

    def results(self) -> list[ProcessedBatch]:
        """The processed sub-batches in input order (waits for them).

        A worker that died (a crash in a C extension on some page, the kernel's OOM killer)
        breaks the pool and every future in it; those sub-batches are re-run page by page in
        a fresh pool, and a page that kills its worker again is a failed item
        (``worker-crashed``) instead of a task that fails on every retry.
        """
        batches = []
        for items, future in self.parts:
            timeout = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)
            try:
                batches.append(future.result(timeout=timeout))
            except FutureTimeout:  # a page no signal could stop: kill the pool, find the page alone
                log.error("a worker passed the chunk's time backstop; replacing the workers")
                self.processor.kill(self.pool)
                batches.extend(self.processor.isolate(items, broken=self.pool, budget=self.budget))
            except (BrokenProcessPool, CancelledError):  # a crash, or the pool killed for another part
                batches.extend(self.processor.isolate(items, broken=self.pool, budget=self.budget))
        return batches

    def cancel(self) -> None:
        for _, future in self.parts:
            future.cancel()


class PendingScores:
    """The claims of articles handed to ``PageProcessor.score``: each part, a sub-batch of (text, language), and
    its future."""

    def __init__(self, processor: "PageProcessor", parts: list[tuple[list[tuple[str, str | None]], Future[ScoredBatch]]],
                 deadline: float | None = None):
        self.processor = processor
        self.parts = parts
        self.deadline = deadline

    def results(self) -> ScoredBatch:
        """The claims of every article in input order (waits for them), and the seconds per stage summed.

        A part whose worker died or passed the backstop is scored again in this process: the
        claim model runs on text the extractor already bounded, so it cannot hang on a page.
        """
        claims: list[list[Claim]] = []
        seconds: dict[str, float] = {}
        for texts, future in self.parts:
            timeout = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)
            try:
                batch = future.result(timeout=timeout)
            except FutureTimeout:
                log.error("claim scoring passed the chunk's time backstop; replacing the workers")
                self.processor.kill(self.processor._pool)
                batch = score_articles(texts, self.processor.claims, self.processor.embedder)
            except (BrokenProcessPool, CancelledError):
                log.error("a worker died scoring claims; scoring them in this process")
                batch = score_articles(texts, self.processor.claims, self.processor.embedder)
            claims.extend(batch.claims)
            for stage, spent in batch.seconds.items():
                seconds[stage] = seconds.get(stage, 0.0) + spent
        return ScoredBatch(claims=claims, seconds=seconds)

    def cancel(self) -> None:
        for _, future in self.parts:
            future.cancel()


def _done(value) -> Future:
    """A future that already holds ``value``."""
    future: Future = Future()
    future.set_result(value)
    return future


class PageProcessor:
    """Runs ``process_pages`` over a chunk, inline or split across worker processes.

    ``workers`` <= 1 never starts a pool. Use as a context manager, or call ``close``.
    ``task`` is what a worker runs on a sub-batch and its page budget (tests pass one that crashes).
    """

    def __init__(self, claims: ClaimExtractor | None, workers: int = 1,
                 task: Callable[[list[tuple[Entry, Page]]], ProcessedBatch] | None = None,
                 embedder: ClaimEmbedder | None = None) -> None:
        self.claims = claims
        self.embedder = embedder
        self.workers = workers
        self.task = task or _process_in_worker
        self._pool: ProcessPoolExecutor | None = None
        self._backlog_until = 0.0  # when the work handed to the pool should be done at the latest
        # Sources of one `newswire run` share the processor from several threads: one at a
        # time starts, replaces or stops the pool (and runs an inline batch).
        self._lock = threading.RLock()

    def submit(self, items: list[tuple[Entry, Page]], *, batch_size: int,
               page_budget: float | None = PAGE_BUDGET) -> PendingChunk:
        """Start processing ``items``; ``results()`` of the returned chunk follows the input order.

        ``batch_size`` is the size of the whole batch the items belong to: the pool starts
        only when that is worth it. ``page_budget``: CPU seconds per page (None: unbounded).
        """
        with self._lock:
            return self._submit_chunk(items, batch_size, page_budget)

    def _submit_chunk(self, items: list[tuple[Entry, Page]], batch_size: int, page_budget: float | None) -> PendingChunk:
        # Off the main thread (the sources of `newswire run`) a page's CPU budget cannot be
        # enforced inline (signals reach the main thread only), so even a small batch goes to
        # the workers, whose budget and backstop hold.
        off_main = threading.current_thread() is not threading.main_thread()
        if self.workers > 1 and (batch_size >= MIN_PAGES_FOR_WORKERS or off_main):
            parts = [items[i:i + PAGES_PER_TASK] for i in range(0, len(items), PAGES_PER_TASK)]
            try:
                try:
                    return self._submit_parts(parts, page_budget)
                except BrokenProcessPool:  # a worker died since the last chunk: start afresh
                    self.close(wait=False)
                    return self._submit_parts(parts, page_budget)
            except (OSError, AssertionError) as exc:  # AssertionError: a daemonic process may not have children
                log.warning("cannot start extraction workers (%s); processing in this process", exc)
                self.close()
                self.workers = 1
        done: Future[ProcessedBatch] = Future()
        try:
            done.set_result(process_pages(items, page_budget))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            done.set_exception(exc)
        return PendingChunk(self, None, [(items, done)])

    def score(self, articles: list[Article]) -> "PendingScores":
        """Start scoring the claims of ``articles``; ``results()`` gives them in input order.

        Runs in the workers when they are running (the batch was large enough to start them),
        else inline. Without a claim model there is nothing to score: every article gets none.
        """
        texts = [(a.text, a.language) for a in articles]
        if self.claims is None or not texts:
            return PendingScores(self, [(texts, _done(ScoredBatch(claims=[[] for _ in texts], seconds={})))])
        with self._lock:
            if self._pool is not None:
                parts = [texts[i:i + PAGES_PER_TASK] for i in range(0, len(texts), PAGES_PER_TASK)]
                try:
                    with _main_module_hidden():
                        futures = [(part, self._pool.submit(_score_in_worker, part)) for part in parts]
                    return PendingScores(self, futures, deadline=self._backstop(len(texts), SCORE_BUDGET))
                except BrokenProcessPool:  # a worker died since: score here
                    self.close(wait=False)
            return PendingScores(self, [(texts, _done(score_articles(texts, self.claims, self.embedder)))])

    def _backstop(self, items: int, budget: float) -> float:
        """When work of ``items`` items handed to the pool now should be done at the latest, queue included."""
        rounds = -(-items // max(self.workers, 1)) + PAGES_PER_TASK
        self._backlog_until = max(time.monotonic(), self._backlog_until) + rounds * budget
        return self._backlog_until + BACKSTOP_SLACK

    def isolate(self, items: list[tuple[Entry, Page]], broken: ProcessPoolExecutor | None,
                budget: float | None = PAGE_BUDGET) -> list[ProcessedBatch]:
        """Process ``items`` one page at a time in a fresh pool; a page that kills or stalls its worker fails alone.

        ``broken`` is the pool the items' futures died with; it is replaced only if it is still
        the current one (one crash breaks every part of a chunk, and one restart serves them all).
        """
        with self._lock:
            return self._isolate(items, broken, budget)

    def _isolate(self, items: list[tuple[Entry, Page]], broken: ProcessPoolExecutor | None,
                 budget: float | None) -> list[ProcessedBatch]:
        if self._pool is broken:
            self.close(wait=False)
        batches = []
        for item in items:
            try:
                timeout = None if budget is None else budget + BACKSTOP_SLACK
                if timeout is not None and self._pool is None:  # a page's clock starts once a worker is up
                    with _main_module_hidden():
                        self._start_pool().submit(_ready).result(timeout=WORKER_START_TIMEOUT)
                batches.append(self._submit([item], budget).result(timeout=timeout))
            except FutureTimeout:
                entry = item[0]
                log.error("processing %s passed %ss of wall time; its worker is replaced", entry.url, timeout)
                self.kill(self._pool)
                batches.append(ProcessedBatch(items=[_too_slow(entry, f"still processing after {timeout:g}s; "
                                                                        "the worker was replaced")], seconds={}))
            except BrokenProcessPool:
                entry = item[0]
                log.error("a worker died processing %s; reported as failed", entry.url)
                self.close(wait=False)
                batches.append(ProcessedBatch(items=[Processed(entry=entry, failed=True, outcome=ItemOutcome(
                    url=entry.url, reason="worker-crashed",
                    detail="the process extracting this page died (a crash or the memory limit)"))], seconds={}))
        return batches

    def _submit_parts(self, parts: list[list[tuple[Entry, Page]]], budget: float | None) -> PendingChunk:
        starting = self._pool is None
        futures = [(part, self._submit(part, budget)) for part in parts]
        deadline = None
        if budget is not None:
            # The backstop: every page of the chunk run in turn on too few workers, each
            # taking its whole budget, after whatever was queued before it.
            if starting:
                self._backlog_until = max(self._backlog_until, time.monotonic() + WORKER_START_TIMEOUT)
            deadline = self._backstop(sum(len(part) for part in parts), budget)
        return PendingChunk(self, self._pool, futures, budget, deadline)

    def _submit(self, items: list[tuple[Entry, Page]], budget: float | None = PAGE_BUDGET) -> Future[ProcessedBatch]:
        # The pool starts its processes inside submit(), so this is where __main__ must be hidden.
        with _main_module_hidden():
            return self._start_pool().submit(self.task, items, budget)

    def kill(self, pool: ProcessPoolExecutor | None) -> None:
        """Kill ``pool``'s processes (a stalled worker ignores everything else); the pool is then broken."""
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        if self._pool is pool:
            self.close(wait=False)

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            log.info("starting %d extraction workers", self.workers)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.claims is not None, self.embedder is not None),
            )
        return self._pool

    def close(self, wait: bool = True) -> None:
        """Stop the workers (pending work is cancelled)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=wait, cancel_futures=True)
                self._pool = None

    def __enter__(self) -> "PageProcessor":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
