"""Claim extraction: the check-worthy sentences of an article and who made them.

Public API::

    extractor = ClaimExtractor()                  # loads the ONNX model once
    extractor.score(["Sentence one.", ...])       # -> [0.93, ...]  P(check-worthy), model on every sentence
    extractor.extract(article_text)               # -> [Claim(text, score, checkworthy, speaker, speaker_key, verb, ...)]
    extractor.extract_many([(text, "en"), ...])   # -> [[Claim, ...], ...]  one model call for all
    extract_claims(text, extractor=None)          # convenience; builds an extractor when none is given

The pipeline should build one ``ClaimExtractor`` per worker process and reuse it.
Nothing here imports torch or Airflow, and nothing is downloaded.
"""

from __future__ import annotations

import math
from pathlib import Path

import pysbd

from ..models import Claim
from .attribution import Attribution, attribute
from .model import MODEL_DIR, ClaimScorer
from .prefilter import Prefilter
from .sentences import Sentence, prose_mask, split_sentences
from .speakers import unify

__all__ = [
    "Attribution",
    "Claim",
    "ClaimExtractor",
    "ClaimScorer",
    "Sentence",
    "extract_claims",
    "split_sentences",
]


#: At most this many claims per article, and at most this share of its sentences: the
#: model's scores saturate on news (most sentences of a war report score 0.95 or more), so
#: the threshold alone keeps about half of all sentences; a fact-checker wants the few.
MAX_CLAIMS = 12
MAX_SHARE = 0.25
SHORT_ARTICLE_CLAIMS = 8  # the share limit never goes below this: a short report keeps its few statements
#: A statement attributed to a named source (a name or a source noun, never a bare pronoun) with
#: at least this many words is a claim even below the model's threshold: who said what is what a
#: fact-checker follows up, and the model, trained on debate lines, scores many reported
#: statements low. Such claims have a limit of their own, this share of the article's sentences
#: (it binds only on attribution-dense reports: on the DEV news pages it changes the flagged share
#: by 0.002 between 0.6 and 0.75; see docs/claims.md).
ATTRIBUTED_MIN_WORDS = 8
ATTRIBUTED_SHARE = 0.75


class ClaimExtractor:
    """Splits text, pre-filters, scores and attributes sentences. One model load per instance.

    ``threshold`` overrides the one stored with the model (chosen on dev);
    ``sentence_candidates=False`` lets table rows, bylines, captions, navigation and
    headlines through to the model (see ``sentences.non_prose``; a baseline for the benches);
    ``prefilter=False`` sends every sentence to the model; ``lexical_prefilter=True``
    adds the TF-IDF stage of the pre-filter (faster, but it dropped one of 346 Yes
    sentences on dev + dev-test, so it is off by default; see ``prefilter``);
    ``attributed_share=None`` turns the attributed-statement rule off (the threshold alone
    decides, as before it). A claim's ``checkworthy`` says whether the model's score reached
    the threshold: False on a claim kept for its named source only.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        threshold: float | None = None,
        threads: int = 1,
        batch_size: int = 16,
        prefilter: bool = True,
        lexical_prefilter: bool = False,
        sentence_candidates: bool = True,
        max_claims: int | None = MAX_CLAIMS,
        max_share: float | None = MAX_SHARE,
        attributed_share: float | None = ATTRIBUTED_SHARE,
    ) -> None:
        directory = Path(model_dir) if model_dir else MODEL_DIR
        self.scorer = ClaimScorer(directory, threads=threads, batch_size=batch_size)
        self.threshold = self.scorer.threshold if threshold is None else float(threshold)
        self.prefilter = Prefilter.load(directory, lexical=lexical_prefilter) if prefilter else None
        self.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
        self.sentence_candidates = sentence_candidates
        self.max_claims = max_claims
        self.max_share = max_share
        self.attributed_share = attributed_share

    def score(self, sentences: list[str]) -> list[float]:
        """P(check-worthy) in [0, 1] for every sentence (the model on each, no pre-filter)."""
        return self.scorer.score(sentences)

    def keep(self, sentences: list[str]) -> list[bool]:
        """Which sentences the pre-filter sends on to the model (all of them without one)."""
        return self.prefilter.mask(sentences) if self.prefilter else [True] * len(sentences)

    def candidates(self, text: str, sentences: list[Sentence]) -> list[bool]:
        """Which sentences of ``text`` may be claims: running text that the pre-filter keeps."""
        keep = self.keep([s.text for s in sentences])
        if not self.sentence_candidates:
            return keep
        return [k and prose for k, prose in zip(keep, prose_mask(text, sentences))]

    def score_filtered(self, sentences: list[str], keep: list[bool] | None = None) -> list[float]:
        """Scores as the pipeline computes them: sentences the pre-filter drops score 0.0."""
        keep = self.keep(sentences) if keep is None else keep
        scored = iter(self.scorer.score([s for s, k in zip(sentences, keep) if k]))
        return [next(scored) if k else 0.0 for k in keep]

    def sentences(self, text: str) -> list[Sentence]:
        """The sentences of ``text`` (see ``split_sentences``)."""
        return split_sentences(text, self.segmenter)

    def extract(self, text: str, language: str | None = None) -> list[Claim]:
        """The check-worthy sentences of ``text`` with their attribution, in text order.

        ``sentence_index`` is the sentence's position among all sentences of the
        text, so ``newswire.ids.claim_id(article_id, sentence_index)`` is stable.
        The model and the patterns are English: pass the article's ``language``
        and anything else (e.g. "de") yields no claims rather than noise.
        """
        return self.extract_many([(text, language)])[0]

    def extract_many(self, texts: list[tuple[str, str | None]]) -> list[list[Claim]]:
        """``extract`` for several (text, language) pairs, with one model call for all their sentences.

        The scorer sorts sentences by length before batching, so pooling the sentences of
        many articles cuts padding: about a quarter less model time than article by article.
        """
        split = [self.sentences(text) if not language or language.lower().startswith("en") else []
                 for text, language in texts]
        keeps = [self.candidates(text, sentences) for (text, _), sentences in zip(texts, split)]
        scored = iter(self.score_filtered([s.text for sentences in split for s in sentences],
                                          [k for keep in keeps for k in keep]))
        return [self._claims(sentences, keep, [next(scored) for _ in keep]) for sentences, keep in zip(split, keeps)]

    def _claims(self, sentences: list[Sentence], keep: list[bool], scores: list[float]) -> list[Claim]:
        if not sentences:
            return []
        attributions = attribute(sentences)
        names = unify(who.speaker for who in attributions)  # fullest spelling and key of each speaker
        claims: list[Claim] = []
        seen: set[str] = set()
        for index, (sentence, kept, score, who) in enumerate(zip(sentences, keep, scores, attributions)):
            checkworthy = score >= self.threshold
            if not kept or sentence.text in seen or not (checkworthy or self._attributed_statement(sentence, who)):
                continue  # repeated sentences (a caption printed twice) are one claim
            seen.add(sentence.text)
            speaker, key = names.get(who.speaker or "", (None, None))
            claims.append(
                Claim(
                    text=sentence.text,
                    score=round(score, 4),
                    checkworthy=checkworthy,
                    sentence_index=index,
                    speaker=speaker,
                    speaker_key=key,
                    verb=who.verb,
                    quote=who.quote,
                    numbers=who.numbers,
                )
            )
        return self._few(claims, len(sentences))

    def _attributed_statement(self, sentence: Sentence, who: Attribution) -> bool:
        """True if the sentence states something on a named source's word (see ``ATTRIBUTED_MIN_WORDS``)."""
        return self.attributed_share is not None and bool(who.speaker) \
            and len(sentence.text.split()) >= ATTRIBUTED_MIN_WORDS

    def _few(self, claims: list[Claim], sentences: int) -> list[Claim]:
        """The best-ranked claims within the per-article limits, in text order.

        Attributed claims (ranked by score) are kept up to ``attributed_share`` of the
        sentences; the others fill the places the general limit leaves (``max_claims``,
        ``max_share``, never fewer than ``SHORT_ARTICLE_CLAIMS``), best score first. So a
        statement with a named source is one a fact-checker can follow up, and it does not
        crowd the article's unattributed check-worthy sentences out beyond that limit.
        """
        limit = len(claims)
        if self.max_claims is not None:
            limit = min(limit, self.max_claims)
        if self.max_share is not None:
            limit = min(limit, max(SHORT_ARTICLE_CLAIMS, math.ceil(self.max_share * sentences)))
        if self.attributed_share is None:
            # Without the attributed rule: one limit, attributed claims first (above the threshold the
            # scores barely differ).
            ranked = sorted(claims, key=lambda c: (c.speaker is None, -c.score, c.sentence_index))
            keep = {c.sentence_index for c in ranked[:limit]}
            return [c for c in claims if c.sentence_index in keep]
        by_score = sorted(claims, key=lambda c: (-c.score, c.sentence_index))
        attributed = [c for c in by_score if c.speaker]
        attributed = attributed[: max(limit, math.floor(self.attributed_share * sentences))]
        others = [c for c in by_score if not c.speaker and c.checkworthy]
        keep = {c.sentence_index for c in attributed + others[: max(0, limit - len(attributed))]}
        return [c for c in claims if c.sentence_index in keep]


def extract_claims(text: str, extractor: ClaimExtractor | None = None, language: str | None = None) -> list[Claim]:
    """The claims of one text. Pass an extractor to avoid loading the model per call."""
    return (extractor or ClaimExtractor()).extract(text, language=language)
