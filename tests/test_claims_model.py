"""The packaged check-worthiness model, the extractor on seeds/, and the checkworthy CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from newswire.claims import ClaimExtractor, extract_claims
from newswire.claims.model import MODEL_DIR
from newswire.claims.prefilter import LexicalFilter
from newswire.extract import extract_path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
CLAIMY = "Unemployment fell to 3.5 percent last year, the lowest rate since 1969."
CHATTY = "Thank you very much, it is wonderful to be here with all of you tonight."


@pytest.fixture(scope="module")
def extractor() -> ClaimExtractor:
    return ClaimExtractor()


def seed_claims(extractor: ClaimExtractor, name: str):
    path = next(SEEDS.glob(f"{name}_*.txt"))
    article = extract_path(path)
    return article.text, extractor.extract(article.text)


def claim_with(claims, fragment: str):
    matches = [c for c in claims if fragment in c.text]
    assert matches, f"no claim contains {fragment!r}: {[c.text[:60] for c in claims]}"
    return matches[0]


def test_artefact_is_small_and_described():
    metadata = json.loads((MODEL_DIR / "metadata.json").read_text())
    size = (MODEL_DIR / "model.onnx").stat().st_size
    assert size <= 25_000_000
    assert metadata["model_bytes"] == size
    assert metadata["model_sha256"] == hashlib.sha256((MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    assert metadata["base_model"]["sha256"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert 0.0 < metadata["threshold"] < 1.0
    assert metadata["max_length"] == 64


def test_scores_are_probabilities_in_order_and_deterministic(extractor):
    sentences = [CLAIMY, CHATTY, "", "x", CLAIMY + " " + CLAIMY * 10]
    first = extractor.score(sentences)
    assert len(first) == len(sentences)
    assert all(0.0 <= s <= 1.0 for s in first)
    assert extractor.score(sentences) == first
    assert extractor.score(list(reversed(sentences))) == pytest.approx(list(reversed(first)), abs=0.03)
    assert extractor.score([]) == []


def test_model_separates_a_factual_claim_from_small_talk(extractor):
    claimy, chatty = extractor.score([CLAIMY, CHATTY])
    assert claimy >= extractor.threshold > chatty


def test_runtime_imports_neither_torch_nor_airflow():
    code = (
        "import sys\n"
        "from newswire.claims import ClaimExtractor\n"
        "ClaimExtractor().extract('Russia said 1,000 militants were killed on Friday.')\n"
        "bad = [m for m in ('torch', 'airflow', 'transformers', 'sklearn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_seed_1000_militants_attributed_to_rudskoy(extractor):
    _, claims = seed_claims(extractor, "001")
    claim = claim_with(claims, "1,000 militants")
    assert "Rudskoy" in (claim.speaker or "")
    assert claim.verb == "added"
    assert any("1,000" in n for n in claim.numbers)
    assert claim.checkworthy and claim.score >= extractor.threshold


def test_seed_rhetorical_line_is_not_a_claim(extractor):
    text, claims = seed_claims(extractor, "001")
    assert "Call the Russians when you need to get something done." in text
    assert not [c for c in claims if "Call the Russians" in c.text]


def test_seed_special_forces_deployment_attributed_to_konashenkov(extractor):
    _, claims = seed_claims(extractor, "004")
    claim = claim_with(claims, "special forces have been deployed")
    assert "Konashenkov" in (claim.speaker or "")
    assert claim.verb == "said"


def test_seed_300_militants_attributed_to_the_observatory(extractor):
    _, claims = seed_claims(extractor, "004")
    claim = claim_with(claims, "300 militants")
    assert claim.speaker == "Syrian Observatory for Human Rights"
    assert claim.verb == "according to"
    assert any("300" in n for n in claim.numbers)


def test_claims_are_in_text_order_with_stable_indexes(extractor):
    text, claims = seed_claims(extractor, "004")
    indexes = [c.sentence_index for c in claims]
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes)
    sentences = extractor.sentences(text)
    assert all(sentences[c.sentence_index].text == c.text for c in claims)
    assert [c.text for c in extract_claims(text, extractor)] == [c.text for c in claims]


def test_non_english_text_yields_no_claims(extractor):
    text = "Russia said 1,000 militants were killed in Palmyra on Friday, General Rudskoy said."
    assert extractor.extract(text, language="en")
    assert extractor.extract(text, language="de") == []


def test_prefilter_drops_lead_ins_but_no_statement_on_seeds(extractor):
    """On seeds/, the rules drop the lines that introduce something else, and keep every statement."""
    texts = [s.text for p in sorted(SEEDS.glob("*.txt")) for s in extractor.sentences(extract_path(p).text)]
    keep = extractor.keep(texts)
    dropped = [t for t, k in zip(texts, keep) if not k]
    assert "The details:" in dropped
    assert all(t.endswith(":") or len(t.split()) < 4 for t in dropped), dropped
    assert len(dropped) < len(texts) / 10


def test_lexical_prefilter_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train = ["taxes went up by 20 percent", "thank you so much", "we created a million jobs",
             "good evening everyone", "crime fell 10 percent in the city", "I love this country"] * 3
    labels = [1, 0, 1, 0, 1, 0] * 3
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    regression = LogisticRegression().fit(vectorizer.fit_transform(train), labels)
    exported = LexicalFilter.from_sklearn(vectorizer, regression, threshold=0.5)
    probe = ["Taxes went up, crime fell by 10 percent!", "thank you, good evening", "nothing known here"]
    expected = regression.predict_proba(vectorizer.transform(probe))[:, 1]
    assert [exported.probability(t) for t in probe] == pytest.approx(list(expected), abs=1e-4)


def test_checkworthy_cli_prints_one_json_line_per_input_line(tmp_path):
    lines = [CLAIMY, "", CHATTY, "Ünïcode “quotes” stay as they are.",
             "Two cranes failed on Friday, Maj. Gen. Tomas Berg said."]
    source = tmp_path / "sentences.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    newswire = Path(sys.executable).with_name("newswire")
    done = subprocess.run([str(newswire), "checkworthy", str(source)], capture_output=True, text=True,
                          timeout=120, check=True)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in records] == lines
    threshold = json.loads((MODEL_DIR / "metadata.json").read_text())["threshold"]
    for record in records:
        assert set(record) == {"text", "score", "checkworthy", "speaker", "speaker_key"}
        assert 0.0 <= record["score"] <= 1.0
        assert record["checkworthy"] == (record["score"] >= threshold)
    assert records[0]["checkworthy"] and not records[2]["checkworthy"]
    assert (records[4]["speaker"], records[4]["speaker_key"]) == ("Maj. Gen. Tomas Berg", "tomas berg")


def test_checkworthy_cli_reports_a_missing_file(tmp_path):
    newswire = Path(sys.executable).with_name("newswire")
    done = subprocess.run([str(newswire), "checkworthy", str(tmp_path / "missing.txt")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0


def test_no_seed_yields_more_than_twelve_claims_and_speakers_come_first(extractor):
    unlimited = ClaimExtractor(max_claims=None, max_share=None)
    for path in sorted(SEEDS.glob("*.txt")):
        text = extract_path(path).text
        claims, every = extractor.extract(text), unlimited.extract(text)
        assert 0 < len(claims) <= 12, path.name
        assert {c.sentence_index for c in claims} <= {c.sentence_index for c in every}  # a subset, same claims
        dropped = [c for c in every if c.sentence_index not in {k.sentence_index for k in claims}]
        if dropped and any(c.speaker is None for c in claims):  # unattributed claims kept: none attributed dropped
            assert all(c.speaker is None for c in dropped), path.name


def test_claims_carry_one_speaker_key_per_person(extractor):
    _, claims = seed_claims(extractor, "004")
    konashenkov = [c for c in claims if c.speaker_key == "igor konashenkov"]
    assert konashenkov and {c.speaker for c in konashenkov} == {"Maj. Gen. Igor Konashenkov"}


def _scored(monkeypatch, extractor: ClaimExtractor, scores: dict[str, float]) -> None:
    """Make the model return the given scores (default 0.05), to test the selection rule on its own."""
    monkeypatch.setattr(extractor.scorer, "score", lambda sentences: [scores.get(s, 0.05) for s in sentences])


def test_a_statement_attributed_to_a_named_source_is_a_claim_below_the_threshold(monkeypatch):
    extractor = ClaimExtractor()
    named = "The harbor union said the new night shifts had doubled the number of injuries."
    pronoun = "He said the new night shifts had doubled the number of injuries at the port."
    short = "Tomas Berg said it was over."
    plain = "The new night shifts began in March and run until six in the morning."
    flagged = "Injuries at the port doubled to 40 in the first half of the year."
    _scored(monkeypatch, extractor, {flagged: 0.97})
    claims = extractor.extract("\n\n".join([named, pronoun, short, plain, flagged]))
    assert [(c.text, c.speaker, c.checkworthy) for c in claims] == [
        (named, "harbor union", False),  # kept for its named source, marked as below the model's threshold
        (flagged, None, True),
    ]
    extractor.attributed_share = None  # the rule off: the model's threshold alone decides
    assert [c.text for c in extractor.extract("\n\n".join([named, plain, flagged]))] == [flagged]


def test_attributed_claims_have_a_limit_of_their_own(monkeypatch):
    extractor = ClaimExtractor()
    attributed = [f"The harbor union said that crane number {i} had failed twice during the night shift."
                  for i in range(40)]
    unattributed = [f"Injuries at berth number {i} doubled to 40 in the first half of the year." for i in range(8)]
    scores = {s: 0.2 + i / 100 for i, s in enumerate(attributed)}  # the later, the better scored
    _scored(monkeypatch, extractor, {s: 0.9 for s in unattributed} | scores)
    claims = extractor.extract("\n\n".join(attributed + unattributed))
    with_speaker = [c for c in claims if c.speaker]
    limit = int(extractor.attributed_share * 48)
    assert 0 < limit < 40 and len(with_speaker) == limit  # the best-scored attributed statements
    assert {c.text for c in with_speaker} == set(attributed[-limit:])
    assert len(claims) == limit  # they take the general limit's places (12 of 48) too
    _scored(monkeypatch, extractor, {s: 0.9 for s in unattributed} | {s: 0.2 for s in attributed[:3]})
    claims = extractor.extract("\n\n".join(attributed[:3] + unattributed))
    assert sum(1 for c in claims if c.speaker) == 3 and len(claims) == 8  # the short-article floor
