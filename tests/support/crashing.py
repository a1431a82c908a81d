"""A worker task that dies on purpose: a stand-in for a page that crashes a C extension.

It runs in the real worker processes of ``newswire.workers.PageProcessor`` (passed as its
``task``), so the tests see the real ``BrokenProcessPool`` and the real recovery.
"""

from __future__ import annotations

import os
import time

from newswire.workers import _process_in_worker

POISON = "/poison"


def process_or_die(items, budget=None):
    """Like the default worker task, but the process exits at once if a page URL contains ``POISON``."""
    if any(POISON in entry.url for entry, _ in items):
        os._exit(70)
    return _process_in_worker(items, budget)


def process_or_sleep(items, budget=None):
    """Like the default worker task, but a page whose URL ends in ``-sleep`` sleeps off the CPU for good:
    a stand-in for a page stuck where the CPU budget's signal never fires."""
    if any(entry.url.endswith("-sleep") for entry, _ in items):
        time.sleep(3600)
    return _process_in_worker(items, budget)
