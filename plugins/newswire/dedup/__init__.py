"""Near-duplicate detection: fingerprints, candidate verification, cluster assignment.

Pure functions over typed values; the Elasticsearch side lives in ``newswire.index.clusters``.
"""

from newswire.dedup.cluster import Cluster, DedupItem, canonical_key, cluster, cluster_fields
from newswire.dedup.fingerprint import fingerprint, tokens
from newswire.dedup.params import DEFAULT_PARAMS, DedupParams
from newswire.dedup.verify import is_duplicate, similarity

__all__ = [
    "DEFAULT_PARAMS",
    "Cluster",
    "DedupItem",
    "DedupParams",
    "canonical_key",
    "cluster",
    "cluster_fields",
    "fingerprint",
    "is_duplicate",
    "similarity",
    "tokens",
]
