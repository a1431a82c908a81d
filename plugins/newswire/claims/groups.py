"""When two claims state the same thing, and the groups that relation makes.

The decision (``MatchRule.decide``) is the one the pipeline, the backfill and
``newswire claims same`` all use:

* the cosine of the two sentence embeddings, combined with how much of each
  sentence's content the other repeats, gives a score at least the threshold stored
  with the embedding model (weights and threshold chosen on DEV pairs by
  ``bench/eval_claim_matching.py``);
* the two sentences carry the same numbers and quantities (``quantities``): "300
  militants" is not "1,000 militants", "1.5 million" is "1,500,000";
* they come from two different stories: a sentence shared by two copies of one
  article is one claim of the canonical, whose copies only add outlets (the caller
  passes one node per canonical claim, so copies never pair).

Groups are the connected components of that relation over the stored claims, so they
depend only on which claims exist, never on the order they arrived in. Equal
quantities is an equivalence, so every member of a group carries the same figures.
A group is named after its first-seen claim (earliest published, ties by first
fetched, then by claim id): ``newswire.ids.claim_group_id``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from newswire.ids import claim_group_id

#: Numerals and words, in one pass over the text; the two alternatives share no character.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z]+")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_UNITS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "mln": 1_000_000, "bn": 1_000_000_000,
           "billion": 1_000_000_000, "trillion": 1_000_000_000_000}
#: "one" and "a" count only before a scale word ("a thousand", "one million"): alone they
#: are mostly pronouns and articles ("one of the", "a man").
_ONLY_BEFORE_SCALE = {"one": 1, "a": 1}
MAX_QUANTITIES = 64  # a sentence with more figures than this is a table row, not a claim


def _numeral(token: str) -> list[float]:
    """The value(s) of a numeral token: "1,000" -> 1000, "3.5" -> 3.5, "3,4" -> 3 and 4."""
    if _GROUPED.fullmatch(token):
        return [float(token.replace(",", ""))]
    parts = [p for p in token.split(",") if p]
    values = []
    for part in parts:
        pieces = part.split(".")
        if len(pieces) > 2:  # "1.2.3": a version or a date, keep each piece
            values.extend(float(p) for p in pieces if p)
        else:
            values.append(float(part))
    return values


def quantities(text: str) -> frozenset[str]:
    """The numbers a sentence states, normalised so that equal amounts compare equal.

    Digits with or without thousands separators, decimals, scale words ("1.2
    billion" = 1,200,000,000), and number words ("a thousand" = 1,000, "twenty-five"
    = 25). Units and signs are not compared: "5 percent" and "5%" are both 5.
    """
    tokens = _TOKEN.findall(text[:MAX_TEXT_CHARS])
    values: list[float] = []
    i = 0
    while i < len(tokens) and len(values) < MAX_QUANTITIES:
        token = tokens[i]
        lower = token.lower()
        if token[0].isdigit():
            found = _numeral(token)
            if i + 1 < len(tokens) and tokens[i + 1].lower() in _SCALES:
                found[-1] *= _SCALES[tokens[i + 1].lower()]
                i += 1
            values.extend(found)
            i += 1
            continue
        if lower in _UNITS or lower in _TENS or (lower in _ONLY_BEFORE_SCALE and i + 1 < len(tokens)
                                                 and tokens[i + 1].lower() in _SCALES):
            total, current, j = 0.0, 0.0, i
            while j < len(tokens):
                word = tokens[j].lower()
                if word in _UNITS or word in _TENS or (j == i and word in _ONLY_BEFORE_SCALE):
                    current += _UNITS.get(word, 0) + _TENS.get(word, 0) + _ONLY_BEFORE_SCALE.get(word, 0)
                elif word in _SCALES and (current or total):
                    scale = _SCALES[word]
                    if scale == 100:
                        current *= scale
                    else:
                        total += current * scale
                        current = 0.0
                elif word == "and" and j + 1 < len(tokens) and (tokens[j + 1].lower() in _UNITS
                                                                or tokens[j + 1].lower() in _TENS):
                    pass  # "two hundred and fifty"
                else:
                    break
                j += 1
            values.append(total + current)
            i = j
            continue
        i += 1
    return frozenset(_canonical(v) for v in values)


def _canonical(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e18:
        return str(int(value))
    return f"{value:.6g}"


#: Grouping decides many pairs per claim, each on both texts' figures and words: computed once per
#: text. The caches are keyed on the first ``MAX_TEXT_CHARS`` characters (all the features read), so
#: they hold at most ``TEXT_CACHE`` x ``MAX_TEXT_CHARS`` characters whatever the claims.
TEXT_CACHE = 4096
MAX_TEXT_CHARS = 5000


def quantity_key(text: str) -> str:
    """``quantities`` as one keyword (sorted, ``|``-joined; "" for none): equal keys, equal figures."""
    return _quantity_key(text[:MAX_TEXT_CHARS])


@lru_cache(maxsize=TEXT_CACHE)
def _quantity_key(text: str) -> str:
    return "|".join(sorted(quantities(text), key=lambda v: (len(v), v)))


#: Words that carry no content of their own: left out of the coverage measure.
STOPWORDS = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being has have had it its this "
    "that these those as he she they we i you his her their our your said says say will would could can may might "
    "not no than then there also into about after before over under up down out more most which who whom what when "
    "where while".split()
)
_WORD = re.compile(r"[A-Za-z]+|\d+")


@lru_cache(maxsize=TEXT_CACHE)
def _words(text: str) -> tuple[int, frozenset[str]]:
    """The number of words of ``text`` and its content words (stopwords left out), from one pass."""
    words = _WORD.findall(text)
    return len(words), frozenset(w for w in (m.lower() for m in words) if w not in STOPWORDS)


def lexical_features(text_a: str, text_b: str) -> tuple[float, float]:
    """(length ratio, coverage): shorter / longer word count, and the smaller share of each
    sentence's content words found in the other. A restatement keeps both near 1; a
    sentence that adds a clause to another (same story, more content) does not."""
    (len_a, words_a), (len_b, words_b) = _words(text_a[:MAX_TEXT_CHARS]), _words(text_b[:MAX_TEXT_CHARS])
    ratio = min(len_a, len_b) / max(len_a, len_b) if max(len_a, len_b) else 0.0
    shared = len(words_a & words_b)
    coverage = min(shared / len(words_a), shared / len(words_b)) if words_a and words_b else 0.0
    return ratio, coverage


@dataclass(frozen=True, slots=True)
class Decision:
    same: bool
    score: float  # P(same claim) from the cosine and the lexical features, before the number check
    cosine: float = 0.0
    numbers_agree: bool = True


@dataclass(frozen=True, slots=True)
class MatchRule:
    """The "same claim" decision: ``score >= threshold`` and (``check_numbers``) equal quantities.

    ``score`` is a logistic combination of the embeddings' cosine and the two lexical
    features (weights fitted on DEV pairs and stored with the model): the cosine alone
    could not tell a restatement from a same-story sentence with one more clause (0.90
    precision only at 0.34 recall on DEV). ``min_cosine`` is the lowest cosine at which
    the score can still reach the threshold, so candidate searches can stop there.
    """

    threshold: float
    weights: tuple[float, float, float, float]  # intercept, cosine, length ratio, coverage
    check_numbers: bool = True

    @classmethod
    def load(cls, model_dir: str | Path | None = None) -> "MatchRule":
        """The rule stored with the embedding model (its ``matching`` section)."""
        from newswire.claims.embedding import EMBEDDING_DIR

        directory = Path(model_dir) if model_dir else EMBEDDING_DIR
        metadata = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
        matching = metadata["matching"]
        return cls(threshold=float(matching["threshold"]), weights=tuple(float(w) for w in matching["weights"]),
                   check_numbers=bool(matching.get("check_numbers", True)))

    def score(self, cosine_: float, ratio: float, coverage: float) -> float:
        b, w_cos, w_len, w_cov = self.weights
        z = b + w_cos * cosine_ + w_len * ratio + w_cov * coverage
        return round(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), 6)

    @property
    def min_cosine(self) -> float:
        """The cosine below which no pair can be "same" (the lexical features at their best)."""
        b, w_cos, w_len, w_cov = self.weights
        logit = math.log(self.threshold / (1.0 - self.threshold))
        best_rest = max(w_len, 0.0) + max(w_cov, 0.0)
        return max(-1.0, (logit - b - best_rest) / w_cos) if w_cos > 0 else -1.0

    def decide(self, text_a: str, text_b: str, vector_a: Sequence[float], vector_b: Sequence[float]) -> Decision:
        return self.decide_cosine(text_a, text_b, cosine(vector_a, vector_b))

    def decide_cosine(self, text_a: str, text_b: str, cos: float) -> Decision:
        """``decide`` given the two vectors' cosine."""
        score = self.score(cos, *lexical_features(text_a, text_b))
        numbers_agree = not self.check_numbers or quantity_key(text_a) == quantity_key(text_b)
        return Decision(same=bool(score >= self.threshold and numbers_agree), score=score, cosine=cos,
                        numbers_agree=numbers_agree)

    def is_close(self, decision: Decision, margin: float) -> bool:
        """True if a score off by ``margin`` could turn the decision (numbers that differ never can)."""
        return decision.numbers_agree and abs(decision.score - self.threshold) <= margin


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two vectors in float64, rounded to 6 digits so every caller gets the same number."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denominator = float(np.linalg.norm(x) * np.linalg.norm(y))
    return round(float(x @ y) / denominator, 6) if denominator else 0.0


# ---------------------------------------------------------------------- groups


@dataclass(frozen=True, slots=True)
class Carrier:
    """An article that carried a claim: a member claim's article or one of its copies."""

    source: str
    url: str
    published: datetime | None
    article_id: str
    claim_id: str | None = None  # the member claim, for the canonical article; None for a copy

    def to_dict(self) -> dict:
        return {k: v for k, v in {
            "source": self.source, "url": self.url, "article_id": self.article_id, "claim_id": self.claim_id,
            "published": self.published.isoformat() if self.published else None,
        }.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ClaimNode:
    """One canonical claim as grouping sees it."""

    id: str
    story: str  # its article's cluster id: two claims of one story never pair
    vector: tuple[float, ...]
    quantity_key: str
    published: datetime | None
    fetched_at: datetime | None
    carriers: tuple[Carrier, ...] = field(default=())

    def first_seen_key(self) -> tuple:
        """Earliest published first, ties by first fetched, then by id; undated claims last."""
        far = datetime.max.replace(tzinfo=timezone.utc)
        return (_aware(self.published) or far, _aware(self.fetched_at) or far, self.id)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


MAX_CARRIERS = 200  # listed per group document; the counts are always complete


@dataclass(frozen=True, slots=True)
class ClaimGroup:
    """A set of claims that state one thing, and who carried it."""

    id: str
    first_claim: str
    members: tuple[str, ...]  # claim ids, first-seen order
    carriers: tuple[Carrier, ...]  # earliest first
    first_published: datetime | None

    @property
    def outlets(self) -> list[str]:
        return sorted({c.source for c in self.carriers if c.source})

    def fields_for(self, claim_id: str) -> dict:
        """The group fields stored on one member claim's document."""
        return {
            "group_id": self.id,
            "group_first": claim_id == self.first_claim,
            "group_first_claim": self.first_claim,
            "group_size": len(self.members),
            "group_outlets": self.outlets,
            "group_outlet_count": len(self.outlets),
            "group_carrier_count": len(self.carriers),
            "group_first_published": self.first_published.isoformat() if self.first_published else None,
            "group_carriers": [c.to_dict() for c in self.carriers[:MAX_CARRIERS]],
        }


def group_claims(nodes: Iterable[ClaimNode], edges: Iterable[tuple[str, str]]) -> list[ClaimGroup]:
    """The connected components of ``edges`` over ``nodes`` (a node without edges is a group of one).

    Edges naming a node that is not given, or joining two claims of one story, are ignored.
    """
    by_id = {node.id: node for node in nodes}
    parent = {node_id: node_id for node_id in by_id}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        if a in by_id and b in by_id and by_id[a].story != by_id[b].story:
            root_a, root_b = find(a), find(b)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
    components: dict[str, list[ClaimNode]] = {}
    for node_id, node in by_id.items():
        components.setdefault(find(node_id), []).append(node)
    groups = []
    for members in components.values():
        members.sort(key=ClaimNode.first_seen_key)
        first = members[0]
        carriers: dict[str, Carrier] = {}
        for member in members:
            for carrier in member.carriers:
                carriers.setdefault(carrier.article_id, carrier)
        far = datetime.max.replace(tzinfo=timezone.utc)
        ordered = sorted(carriers.values(), key=lambda c: (_aware(c.published) or far, c.url, c.article_id))
        dates = [c.published for c in ordered if c.published]
        groups.append(ClaimGroup(
            id=claim_group_id(first.id), first_claim=first.id, members=tuple(m.id for m in members),
            carriers=tuple(ordered), first_published=min(dates, key=_aware) if dates else first.published,
        ))
    return sorted(groups, key=lambda g: g.id)
