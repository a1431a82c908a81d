#!/usr/bin/env python3
"""Speaker precision and named-source recall of the claims on attribution-annotated news.

Data: a folder in the format of ``../shared/data/polnear-attribution-dev`` (``texts/<doc>.txt``
and ``attributions.jsonl`` rows with ``doc``, ``content``/``source``/``cue`` spans). Metric, as
its README defines it:

- a claim *covers* an attribution when the claim sentence holds at least half of the
  Content's content words (not pronouns, articles, titles, function words);
- a claim's speaker is *right* when it shares a content word with the Source of an
  attribution the claim covers;
- speaker precision = right / judged, where judged = claims with a speaker that cover an
  attribution with a Source. The annotation leaves pronoun Sources ("he") unresolved, so a
  claim whose covered attributions all have pronoun Sources cannot be judged; the line
  ``strict`` counts those as wrong too;
- named-source recall = attributions with a non-pronoun Source and a Content of 6+ tokens
  that some claim covers with the right speaker.

Next to the claims (the check-worthy sentences, as the pipeline stores them) the same figures
are printed for attribution run on every sentence, which separates the attribution step from
the model's choice of sentences, and for the attribution of the version before this bench
(``--baseline-ref``, read from git) when one is given.

    .venv/bin/python bench/eval_attribution.py --data ../shared/data/polnear-attribution-dev
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins"))

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
PRONOUNS = {
    "i", "me", "my", "we", "us", "our", "you", "your", "he", "him", "his", "she", "her", "they", "them",
    "their", "it", "its", "who", "whom", "whose", "this", "that", "these", "those", "one", "himself",
    "herself", "themselves", "itself", "someone", "some", "many", "others", "other", "both", "each",
}
STOP = PRONOUNS | {
    "a", "an", "the", "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "prof", "rev", "of", "and", "or",
    "to", "in", "on", "at", "for", "with", "by", "from", "as", "is", "are", "was", "were", "be", "been",
    "has", "have", "had", "do", "does", "did", "not", "but", "if", "so", "than", "then", "there", "what",
    "which", "when", "where", "how", "all", "any", "no", "about", "into", "over", "after", "before", "s",
    "will", "would", "could", "should", "can", "may", "might", "also", "just", "more", "most", "very",
}


def content_words(text: str) -> set[str]:
    words = {t.lower().replace("’", "'") for t in _TOKEN.findall(text)}
    return {w.removesuffix("'s") for w in words} - STOP


def is_named(source: dict | None) -> bool:
    return bool(source) and bool(content_words(source["text"]))


@dataclass
class Scores:
    judged: int = 0
    right: int = 0
    unjudgeable: int = 0  # speaker given, covered attributions only have pronoun sources
    claims: int = 0
    with_speaker: int = 0
    recall_hit: int = 0
    recall_total: int = 0
    covered: int = 0  # named attributions that some sentence scored here covers at all (recall's ceiling)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (speaker, gold sources, sentence)

    @property
    def precision(self) -> float:
        return self.right / self.judged if self.judged else 0.0

    @property
    def strict_precision(self) -> float:
        return self.right / (self.judged + self.unjudgeable) if self.judged + self.unjudgeable else 0.0

    @property
    def recall(self) -> float:
        return self.recall_hit / self.recall_total if self.recall_total else 0.0


def score_doc(scores: Scores, items: list[tuple[str, str | None]], attributions: list[dict]) -> None:
    """Add one document's figures: ``items`` are (sentence, speaker) of the claims."""
    gold = []
    for row in attributions:
        words = content_words(row["content"]["text"])
        if words:
            gold.append((row, words))
    covered_right: set[int] = set()
    covered_any: set[int] = set()
    for sentence, speaker in items:
        sentence_words = content_words(sentence)
        covered_any.update(i for i, (_, words) in enumerate(gold) if len(words & sentence_words) * 2 >= len(words))
        scores.claims += 1
        if not speaker:
            continue
        scores.with_speaker += 1
        sentence_words = content_words(sentence)
        speaker_words = content_words(speaker)
        covers = [(i, row) for i, (row, words) in enumerate(gold)
                  if row["source"] and len(words & sentence_words) * 2 >= len(words)]
        if not covers:
            continue
        named = [(i, row) for i, row in covers if is_named(row["source"])]
        if not named:
            scores.unjudgeable += 1
            continue
        scores.judged += 1
        hits = [i for i, row in named if speaker_words & content_words(row["source"]["text"])]
        if hits:
            scores.right += 1
            covered_right.update(hits)
        else:
            scores.wrong.append((speaker, " | ".join(sorted({r["source"]["text"] for _, r in named})), sentence))
    for i, (row, words) in enumerate(gold):
        if is_named(row["source"]) and len(_TOKEN.findall(row["content"]["text"])) >= 6:
            scores.recall_total += 1
            scores.recall_hit += i in covered_right
            scores.covered += i in covered_any


def load(data: Path) -> tuple[dict[str, str], dict[str, list[dict]]]:
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted((data / "texts").glob("*.txt"))}
    rows: dict[str, list[dict]] = {}
    with open(data / "attributions.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rows.setdefault(row["doc"], []).append(row)
    return texts, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "polnear-attribution-dev"))
    parser.add_argument("--show-wrong", type=int, default=0, help="print this many wrong speakers")
    parser.add_argument("--without-model", action="store_true",
                        help="attribution on every sentence only (no claim model; fast)")
    parser.add_argument("--score-cache", default=None,
                        help="JSON file of model scores per sentence (read, and extended): rules rerun in seconds")
    args = parser.parse_args(argv)

    from newswire.claims import ClaimExtractor
    from score_cache import cached
    from newswire.claims.attribution import attribute

    data = Path(args.data)
    texts, attributions = load(data)
    if not texts:
        print(f"no texts under {data / 'texts'}", file=sys.stderr)
        return 2
    extractor = cached(ClaimExtractor(), args.score_cache)
    claims_scores, all_scores = Scores(), Scores()
    started = time.perf_counter()
    all_claims = ([[] for _ in texts] if args.without_model
                  else extractor.extract_many([(text, "en") for text in texts.values()]))
    seconds = time.perf_counter() - started
    sentences_total = 0
    for (doc, text), claims in zip(texts.items(), all_claims):
        rows = attributions.get(doc, [])
        score_doc(claims_scores, [(c.text, c.speaker) for c in claims], rows)
        sentences = extractor.sentences(text)
        sentences_total += len(sentences)
        score_doc(all_scores, [(s.text, a.speaker) for s, a in zip(sentences, attribute(sentences))], rows)

    print(f"data: {data}  ({len(texts)} articles, {sum(len(r) for r in attributions.values())} attributions, "
          f"{sentences_total} sentences; claims in {seconds:.1f} s)")
    print(f"{'scored on':22} {'sentences':>9} {'w/ speaker':>10} {'judged':>7} {'precision':>9} {'strict':>7} "
          f"{'named-source recall':>20} {'ceiling':>8}")
    for name, s in (("claims (pipeline)", claims_scores), ("every sentence", all_scores)):
        print(f"{name:22} {s.claims:9d} {s.with_speaker:10d} {s.judged:7d} {s.precision:9.4f} "
              f"{s.strict_precision:7.4f} {s.recall:10.4f} ({s.recall_hit}/{s.recall_total}) "
              f"{s.covered / max(s.recall_total, 1):8.4f}")
    print("ceiling: share of those attributions whose Content some scored sentence covers, whatever its speaker")
    print(f"targets on the claims: precision >= 0.92, named-source recall >= 0.70; "
          f"share of sentences flagged {claims_scores.claims / max(sentences_total, 1):.3f}")
    if args.show_wrong:
        print("\nwrong speakers (every sentence), most frequent first:")
        counts = Counter(w[0] for w in all_scores.wrong)
        print("  ", counts.most_common(20))
        for speaker, gold, sentence in all_scores.wrong[: args.show_wrong]:
            print(f"- {speaker!r} vs {gold!r}: {sentence[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
