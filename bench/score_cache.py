"""A file of model scores per sentence, so a bench can rerun rules without rerunning the model.

``cached(extractor, path)`` wraps ``extractor.scorer.score``: sentences already in the file
(JSON, text -> score) are not scored again, new ones are scored in one call and written back.
For iterating on attribution and selection rules in seconds; the figures to report come from a
run without a cache (or a fresh one), because the int8 graph's scores move by about 0.01 with
the batch a sentence lands in.
"""

from __future__ import annotations

import json
from pathlib import Path


def cached(extractor, path: str | Path | None):
    """Make ``extractor`` score through the cache file at ``path`` (nothing changes when ``path`` is None)."""
    if not path:
        return extractor
    path = Path(path)
    store: dict[str, float] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    score = extractor.scorer.score

    def through_cache(sentences: list[str]) -> list[float]:
        missing = list(dict.fromkeys(s for s in sentences if s not in store))
        if missing:
            store.update(zip(missing, score(missing)))
            path.write_text(json.dumps(store), encoding="utf-8")
        return [store[s] for s in sentences]

    extractor.scorer.score = through_cache
    return extractor
