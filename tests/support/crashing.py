"""A worker task that dies on purpose: a stand-in for a page that crashes a C extension.

It runs in the real worker processes of ``newswire.workers.PageProcessor`` (passed as its
``task``), so the tests see the real ``BrokenProcessPool`` and the real recovery.
"""

from __future__ import annotations

import os

from newswire.workers import _process_in_worker

POISON = "/poison"


def process_or_die(items, budget=None):
    """Like the default worker task, but the process exits at once if a page URL contains ``POISON``."""
    if any(POISON in entry.url for entry, _ in items):
        os._exit(70)
    return _process_in_worker(items, budget)
