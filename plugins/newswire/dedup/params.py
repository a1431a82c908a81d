"""All dedup parameters in one typed, frozen settings object (checked up front)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class DedupParams:
    """Hashing, LSH and verification parameters; see docs/dedup.md for why these values.

    A *copy* is a text whose shingles lie (almost) entirely inside another text:
    syndicated, wire, abridged, truncated and re-formatted versions of one report.
    Two texts are duplicates when the shorter one's estimated containment in the
    longer one reaches ``containment_threshold`` *and* their estimated Jaccard
    similarity reaches ``jaccard_threshold`` (a floor that keeps a one-paragraph
    snippet from joining a long feature and that matches the range where the LSH
    banding finds candidates reliably).

    Attributes:
        shingle_size: Words per shingle (word k-grams of the normalised body).
        num_perm: MinHash permutations; must equal ``bands * rows``.
        seed: Seed of the MinHash permutations; part of every band key.
        bands: LSH bands; each gives one band key (an Elasticsearch keyword term).
        rows: MinHash values per band. Candidate probability at Jaccard ``s`` is
            ``1 - (1 - s**rows) ** bands``.
        jaccard_threshold: Minimum estimated Jaccard similarity of a duplicate pair.
        containment_threshold: Minimum estimated containment of the shorter text
            in the longer one for a duplicate pair.
        min_shingles: Texts with fewer distinct shingles only match exactly (by
            ``exact_hash``): their MinHash estimates are too coarse to trust.
        max_candidates: Most candidates one Elasticsearch lookup returns (those
            sharing the most band keys first).
    """

    shingle_size: int = 5
    num_perm: int = 256
    seed: int = 1
    bands: int = 128
    rows: int = 2
    jaccard_threshold: float = 0.2
    containment_threshold: float = 0.8
    min_shingles: int = 10
    max_candidates: int = 200

    def __post_init__(self) -> None:
        for name in ("shingle_size", "num_perm", "bands", "rows", "min_shingles", "max_candidates"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DedupParams.{name} must be a positive int, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"DedupParams.seed must be a non-negative int, got {self.seed!r}")
        if self.bands * self.rows != self.num_perm:
            raise ValueError(
                f"DedupParams: bands * rows must equal num_perm "
                f"({self.bands} * {self.rows} = {self.bands * self.rows} != {self.num_perm})"
            )
        for name in ("jaccard_threshold", "containment_threshold"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 < value <= 1.0:
                raise ValueError(f"DedupParams.{name} must be a number in (0, 1], got {value!r}")

    def candidate_probability(self, jaccard: float) -> float:
        """Probability that two texts with this Jaccard similarity share a band key."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands

    @property
    def tag(self) -> str:
        """Identifies the hashing scheme: band keys from other parameters never collide."""
        return f"k{self.shingle_size}p{self.num_perm}s{self.seed}r{self.rows}"


DEFAULT_PARAMS = DedupParams()
