"""Candidate verification: estimated Jaccard and containment from two fingerprints."""

from __future__ import annotations

import numpy as np

from newswire.dedup.params import DEFAULT_PARAMS, DedupParams
from newswire.models import Fingerprint


def similarity(fp_a: Fingerprint, fp_b: Fingerprint) -> tuple[float, float]:
    """Estimated Jaccard similarity and containment of the shorter text in the longer one.

    Jaccard is the share of equal MinHash values. Containment is read from the
    same signatures without going through Jaccard and the shingle counts (that
    route multiplies Jaccard's error by the length ratio, so a short text looks
    half-contained in a long unrelated one): per permutation, the minimum of
    ``A∪B`` is ``min(h_A, h_B)`` and is uniform over ``A∪B``; when it falls in
    ``A`` (``h_A <= h_B``) it is uniform over ``A``, and it lies in ``A∩B``
    exactly when ``h_A == h_B``. So ``#(h_A == h_B) / #(h_A <= h_B)`` estimates
    ``|A∩B| / |A|``: exactly 1 when ``A`` lies inside ``B``, exactly 0 for
    disjoint texts. ``A`` is the text with fewer shingles; for equal counts both
    directions are pooled, so ``similarity(a, b) == similarity(b, a)``.

    Raises:
        ValueError: when the signatures have different lengths (other parameters).
    """
    a = np.asarray(fp_a.minhash, dtype=np.uint64)
    b = np.asarray(fp_b.minhash, dtype=np.uint64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"MinHash signatures differ in length ({a.size} vs {b.size}): other parameters?")
    if fp_a.shingle_count == 0 or fp_b.shingle_count == 0:
        return 0.0, 0.0
    equal = int(np.count_nonzero(a == b))
    a_low = int(np.count_nonzero(a <= b))  # >= equal, and a_low + b_low >= num_perm
    b_low = int(np.count_nonzero(b <= a))
    if fp_a.shingle_count < fp_b.shingle_count:
        seen = a_low
    elif fp_b.shingle_count < fp_a.shingle_count:
        seen = b_low
    else:
        equal, seen = 2 * equal, a_low + b_low
    return equal / a.size if seen else 0.0, equal / seen if seen else 0.0


def is_duplicate(a: Fingerprint, b: Fingerprint, params: DedupParams = DEFAULT_PARAMS) -> bool:
    """Whether two fingerprints are copies of one text.

    Identical normalised bodies always are. Otherwise both texts need at least
    ``params.min_shingles`` shingles, the shorter must lie in the longer
    (containment >= ``params.containment_threshold``: abridged, truncated, wire
    and syndicated copies do; articles sharing a few background paragraphs or a
    site's boilerplate do not), and the Jaccard estimate must reach
    ``params.jaccard_threshold`` (a snippet is no copy of a long feature).
    """
    if a.shingle_count == 0 or b.shingle_count == 0:
        return False
    if a.exact_hash == b.exact_hash:
        return True
    if min(a.shingle_count, b.shingle_count) < params.min_shingles:
        return False
    jaccard, containment = similarity(a, b)
    return jaccard >= params.jaccard_threshold and containment >= params.containment_threshold
