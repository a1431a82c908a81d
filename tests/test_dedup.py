"""Pure dedup behaviour: fingerprints, verification, clustering, the CLI. No Elasticsearch.

Test texts are the project's own seeds (seeds/*.txt) and copies derived from them
here, plus short made-up articles written for these tests.
"""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newswire.dedup import (
    DEFAULT_PARAMS,
    DedupItem,
    DedupParams,
    canonical_key,
    cluster,
    fingerprint,
    is_duplicate,
    similarity,
)
from newswire.dedup.files import load_items

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted(str(p.relative_to(REPO)) for p in (REPO / "seeds").glob("*.txt"))
NEWSWIRE = REPO / ".venv" / "bin" / "newswire"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)

CHROME_TOP = (
    "Home | World | Politics | Business | Tech | Sport | Opinion | Culture\n\n"
    "Share on Facebook  Share on Twitter  Share on LinkedIn  Email this article\n\n"
    "Subscribe to our newsletter for the latest headlines delivered every morning.\n\n"
)
CHROME_BOTTOM = (
    "\n\nRelated stories:\nMarkets slide as investors weigh new data\nWhat to watch this week\n"
    "Five things to know before the weekend\n\n"
    "Comments are closed. Read our community guidelines and privacy policy.\n\n"
    "© 2024 The Daily Courier. All rights reserved. Terms of use. Contact us. Advertise with us."
)
BRIEF_A = (
    "The city council voted on Tuesday to extend the river tram line by four stops, ending two years of "
    "debate over the cost of the route along the eastern docks.\n\n"
    "Supporters said the extension would cut commuting times for thousands of workers in the new harbour "
    "district, while opponents warned that the budget had already doubled since the first plans were drawn."
)
BRIEF_B = (
    "A family of otters has returned to the canal behind the old brewery for the first time in thirty years, "
    "volunteers from the local wildlife trust said on Sunday.\n\n"
    "The group has spent a decade clearing rubbish from the water and planting reeds along the towpath, and "
    "hopes the animals will breed there next spring if the water stays clean."
)


def seed_text(index: int) -> str:
    return (REPO / SEEDS[index]).read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    return [p for p in text.splitlines() if p.strip()]


def truncated(text: str, share: float = 0.45) -> str:
    paras = paragraphs(text)
    return "\n\n".join(paras[: max(2, int(len(paras) * share))] + ["Read the full story at the original publisher."])


def abridged(text: str) -> str:
    return "\n\n".join(p for i, p in enumerate(paragraphs(text)) if i % 3 != 2)


def wire(text: str) -> str:
    paras = paragraphs(text)
    body = "\n\n".join(paras[1:])
    for word, synonym in ((" said ", " stated "), (" people ", " individuals "), (" about ", " around "), (" but ", " yet ")):
        body = body.replace(word, synonym)
    return f"UPDATE: {paras[0]}\n\nDAMASCUS (Wire) - {body}"


def item(item_id: str, text: str, published: datetime | None = None, fetched: datetime | None = None) -> DedupItem:
    return DedupItem(id=item_id, fingerprint=fingerprint(text), published=published, fetched_at=fetched)


def partition(clusters) -> set[tuple[str, tuple[str, ...]]]:
    return {(c.canonical, tuple(c.members)) for c in clusters}


def test_params_are_checked_up_front():
    with pytest.raises(ValueError, match="bands \\* rows"):
        DedupParams(num_perm=128, bands=30, rows=4)
    with pytest.raises(ValueError, match="containment_threshold"):
        DedupParams(containment_threshold=1.5)
    with pytest.raises(ValueError, match="shingle_size"):
        DedupParams(shingle_size=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_PARAMS.num_perm = 64  # type: ignore[misc]


def test_fingerprint_shape_and_normalisation():
    fp = fingerprint(seed_text(0))
    assert len(fp.minhash) == DEFAULT_PARAMS.num_perm
    assert len(fp.band_keys) == DEFAULT_PARAMS.bands
    assert all(key.startswith(f"b{i:03d}:") for i, key in enumerate(fp.band_keys))
    assert fp.shingle_count > 100
    # Case, punctuation, spacing and Unicode form do not change the exact hash.
    assert fingerprint("The  Army SAID: “1,000 killed”.").exact_hash == fingerprint('the army said "1 000 killed"').exact_hash
    # A dateline is no part of the report.
    assert fingerprint("LONDON (Reuters) - Prices rose sharply today.").exact_hash == fingerprint(
        "Prices rose sharply today."
    ).exact_hash
    short = fingerprint("Too short to band.")
    assert short.band_keys == [] and short.shingle_count == 1


def test_similarity_estimates_containment():
    full, cut = fingerprint(seed_text(2)), fingerprint(truncated(seed_text(2), 0.3))
    jaccard, containment = similarity(full, cut)
    assert similarity(cut, full) == (jaccard, containment)
    assert containment > 0.95 and jaccard < 0.5  # a short cut: low Jaccard, fully contained
    assert similarity(fingerprint(seed_text(0)), fingerprint(BRIEF_A)) == (0.0, 0.0)


def test_five_seeds_stay_five_clusters():
    """Related reports on one war share names and phrases but are not copies."""
    items = load_items(SEEDS)
    assert len(items) == 5
    clusters = cluster(items)
    assert [c.members for c in clusters] == [[p] for p in SEEDS]
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            assert not is_duplicate(a.fingerprint, b.fingerprint)


@pytest.mark.parametrize("make_copy", [truncated, abridged, wire], ids=["truncated", "abridged", "wire"])
def test_copies_join_their_original(make_copy):
    original = seed_text(2)
    items = [item("orig", original, T0), item("copy", make_copy(original), T0 + timedelta(hours=2))]
    items += [item(f"seed{i}", seed_text(i), T0) for i in (0, 1, 3, 4)]
    by_member = {m: c for c in cluster(items) for m in c.members}
    assert by_member["copy"].members == ["copy", "orig"]
    assert by_member["copy"].canonical == "orig"  # published earlier
    assert all(len(by_member[f"seed{i}"].members) == 1 for i in (0, 1, 3, 4))


def test_shared_boilerplate_and_stock_paragraphs_stay_apart():
    """Distinct short articles in one heavy site template, and one quoting two background paragraphs."""
    page_a, page_b = CHROME_TOP + BRIEF_A + CHROME_BOTTOM, CHROME_TOP + BRIEF_B + CHROME_BOTTOM
    jaccard, containment = similarity(fingerprint(page_a), fingerprint(page_b))
    assert jaccard > 0.2  # the template alone would pass a low Jaccard threshold
    assert not is_duplicate(fingerprint(page_a), fingerprint(page_b))
    background = "\n\n".join(paragraphs(seed_text(2))[3:5])
    quoting = BRIEF_A + "\n\n" + background + "\n\n" + BRIEF_B
    assert not is_duplicate(fingerprint(quoting), fingerprint(seed_text(2)))
    items = [item("a", page_a), item("b", page_b), item("q", quoting), item("s", seed_text(2))]
    assert all(len(c.members) == 1 for c in cluster(items))


def test_canonical_rule():
    fp = fingerprint(seed_text(1))
    later, earlier = T0 + timedelta(days=1), T0
    a = DedupItem(id="a", fingerprint=fp, published=later, fetched_at=T0)
    b = DedupItem(id="b", fingerprint=fp, published=earlier, fetched_at=later)
    c = DedupItem(id="c", fingerprint=fp, published=earlier, fetched_at=T0)
    d = DedupItem(id="d", fingerprint=fp, published=None, fetched_at=None)
    naive = DedupItem(id="e", fingerprint=fp, published=earlier.replace(tzinfo=None), fetched_at=T0)
    assert min([a, b, c, d], key=canonical_key).id == "c"  # earliest published, then earliest fetched
    assert min([c, naive], key=canonical_key).id == "c"  # naive counts as UTC; tie -> smallest id
    (only,) = cluster([a, b, c, d])
    assert only.canonical == only.cluster_id == "c" and only.members == ["a", "b", "c", "d"]


def corpus() -> list[DedupItem]:
    """Two copy families with canonical-rule ties, plus unrelated seeds and templated briefs."""
    s2, s4 = seed_text(2), seed_text(4)
    return [
        item("s2-orig", s2, T0, T0),
        item("s2-trunc", truncated(s2), T0, T0),  # same published and fetched: the id decides
        item("s2-wire", wire(s2), T0 - timedelta(minutes=5), None),
        item("s4-orig", s4, None, T0),
        item("s4-abr", abridged(s4), None, T0 - timedelta(hours=1)),
        item("s0", seed_text(0), T0),
        item("s1", seed_text(1), T0),
        item("s3", seed_text(3), T0),
        item("page-a", CHROME_TOP + BRIEF_A + CHROME_BOTTOM, T0),
        item("page-b", CHROME_TOP + BRIEF_B + CHROME_BOTTOM, T0),
    ]


def test_order_independence_and_idempotence():
    items = corpus()
    expected = cluster(items)
    got = {(c.canonical, tuple(c.members)) for c in expected if len(c.members) > 1}
    assert got == {("s2-wire", ("s2-orig", "s2-trunc", "s2-wire")), ("s4-abr", ("s4-abr", "s4-orig"))}
    rng = random.Random(5)
    for _ in range(5):
        shuffled = items[:]
        rng.shuffle(shuffled)
        assert cluster(shuffled) == expected
    assert cluster(items) == expected  # a second run changes nothing
    with pytest.raises(ValueError, match="duplicate item id"):
        cluster(items + items[:1])


def run_cli(paths: list[str]) -> dict:
    result = subprocess.run(
        [str(NEWSWIRE), "dedup", "--json", *paths], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_clusters_files_order_independently(tmp_path):
    s3 = seed_text(3)
    (tmp_path / "trunc.txt").write_text(truncated(s3), encoding="utf-8")
    (tmp_path / "wire.html").write_text(
        "<html><head><title>Report</title></head><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
        "<article>" + "".join(f"<p>{p}</p>" for p in paragraphs(wire(s3))) + "</article>"
        "<footer>© 2024 Example Wire. All rights reserved.</footer></body></html>",
        encoding="utf-8",
    )
    extra = [str(tmp_path / "trunc.txt"), str(tmp_path / "wire.html")]
    paths = SEEDS + extra
    out = run_cli(paths)
    assert set(out) == {"clusters"}
    flat = [p for group in out["clusters"] for p in group]
    assert sorted(flat) == sorted(paths)  # every input in exactly one cluster, paths as given
    groups = {frozenset(g) for g in out["clusters"]}
    assert frozenset([SEEDS[3], *extra]) in groups
    assert all(frozenset([s]) in groups for i, s in enumerate(SEEDS) if i != 3)
    shuffled = paths[:]
    random.Random(1).shuffle(shuffled)
    assert run_cli(shuffled) == out  # same clusters, same canonicals, same order


def test_a_guessed_date_never_makes_a_copy_canonical():
    """Only a date the page or the feed states counts; undated and guessed copies go by first fetched."""
    from newswire.dedup.cluster import stated_date
    from newswire.index.clusters import item_from_article
    from newswire.models import Article

    fp = fingerprint(seed_text(1))

    def article(name: str, published, date_source, fetched):
        return item_from_article(Article(id=name, url=f"https://x.example/{name}", published=published,
                                         date_source=date_source, fetched_at=fetched), fp)

    original = article("original", T0, "feed", T0 + timedelta(hours=2))
    guessed = article("copy-guessed", T0 - timedelta(days=3000), None, T0 + timedelta(hours=1))
    undated = article("copy-undated", None, None, T0)
    assert min([original, guessed, undated], key=canonical_key).id == "original"
    assert min([guessed, undated], key=canonical_key).id == "copy-undated"  # first fetched
    page_dated = article("page-dated", T0 - timedelta(hours=1), "page", T0 + timedelta(hours=5))
    assert min([original, page_dated], key=canonical_key).id == "page-dated"
    assert stated_date(T0, "guess") is None and stated_date(T0, "page") == T0
