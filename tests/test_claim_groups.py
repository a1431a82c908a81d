"""Claim groups: the same claim across articles and sources, on a real Elasticsearch through the pipeline.

Articles are local files in directory sources (one folder per outlet, with a manifest giving
URL, outlet and date), ingested by ``pipeline.ingest_source`` with the real extractor, claim
model and embedding model, then ``pipeline.reconcile_run`` as after a run across sources.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO
from newswire import pipeline
from newswire.claims.embedding import ClaimEmbedder
from newswire.claims.groups import Carrier, ClaimNode, MatchRule, group_claims, quantities, quantity_key
from newswire.config import parse_config
from newswire.ids import claim_group_id
from newswire.index.admin import ensure_indices
from newswire.settings import Settings

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)

CLAIM_A = "The army said 1,000 militants were killed in the fighting near the city of Aleppo on Friday."
CLAIM_B = "According to the army, 1,000 militants were killed on Friday in the fighting near Aleppo."
CLAIM_OTHER_FIGURE = "The army said 300 militants were killed in the fighting near the city of Aleppo on Friday."

FILLER = {
    "a": [
        "Residents described a night of heavy shelling as government forces pressed their advance on the eastern districts.",
        "Aid groups warned that food and medicine were running out in the besieged neighbourhoods after weeks of fighting.",
        "The offensive began early in the week with air strikes on supply routes leading into the city from the north.",
        "Diplomats in Geneva said talks on a ceasefire would resume next month if both sides agreed to the terms.",
    ],
    "b": [
        "Witnesses said columns of armoured vehicles moved through the outskirts before dawn, followed by infantry units.",
        "Hospitals in the area reported treating dozens of wounded civilians, many of them children, over the weekend.",
        "Opposition commanders denied losing ground and accused the government of exaggerating its successes in the battle.",
        "A convoy of trucks carrying flour reached a village to the south, the first delivery there in almost a month.",
    ],
    "c": [
        "Local officials said electricity and water had been cut in several districts since the start of the week.",
        "Journalists were not allowed to enter the area, and the reports could not be independently verified on the spot.",
        "Schools in the western part of the city have been closed and families have moved to shelters in basements.",
        "The United Nations called on all parties to protect civilians and to let humanitarian workers reach the wounded.",
    ],
}


def article_text(title: str, claim: str, filler: list[str]) -> str:
    return "\n\n".join([title, filler[0] + " " + claim, filler[1], filler[2] + " " + filler[3]]) + "\n"


def outlet(root: Path, name: str, files: dict[str, tuple[str, datetime]]) -> Path:
    """A directory source: ``files`` maps a slug to (text, published)."""
    folder = root / name
    folder.mkdir()
    manifest = {}
    for slug, (text, published) in files.items():
        (folder / f"{slug}.txt").write_text(text, encoding="utf-8")
        manifest[f"{slug}.txt"] = {"url": f"https://{name}.example.org/news/{slug}", "site_name": name.title(),
                                   "published": published.isoformat().replace("+00:00", "Z")}
    (folder / "manifest.json").write_text(json.dumps({"files": manifest}), encoding="utf-8")
    return folder


def source(name: str, folder: Path):
    config = parse_config({"sources": [{"name": name, "type": "directory", "path": str(folder), "language": "en"}]},
                          base_dir=REPO)
    return config.get(name)


@pytest.fixture(scope="module")
def stages():
    with pipeline.Stages.load() as loaded:
        yield loaded


@pytest.fixture(scope="module")
def rule():
    return MatchRule.load()


@pytest.fixture(scope="module")
def embedder():
    return ClaimEmbedder()


def settings_for(es_url: str, prefix: str) -> Settings:
    return Settings.from_env({"ELASTICSEARCH_URL": es_url, "NEWSWIRE_INDEX_PREFIX": prefix})


def ingest(es, settings, stages, sources) -> None:
    started = datetime.now(timezone.utc)
    for src in sources:
        pipeline.ingest_source(src, settings, stages=stages, now=datetime.now(timezone.utc))
    pipeline.reconcile_run(settings, since=started)


def claims_by_text(es, prefix: str) -> dict[str, list[dict]]:
    es.indices.refresh(index=f"{prefix}-claims")
    hits = es.search(index=f"{prefix}-claims", size=500, query={"match_all": {}},
                     _source={"excludes": ["embedding"]})["hits"]["hits"]
    out: dict[str, list[dict]] = {}
    for hit in hits:
        out.setdefault(hit["_source"]["text"], []).append(hit["_source"])
    return out


def group_state(es, prefix: str) -> dict:
    """Everything grouping decided, keyed by claim id (for order and idempotence comparisons)."""
    es.indices.refresh(index=f"{prefix}-claims")
    hits = es.search(index=f"{prefix}-claims", size=500, query={"match_all": {}},
                     _source=["id", "group_id", "group_size", "group_outlets", "group_first", "group_first_claim"])
    return {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}


# ---------------------------------------------------------------- the decision, no server


def test_quantities_compare_amounts_not_spellings():
    assert quantities("1,000 militants") == quantities("a thousand fighters") == frozenset({"1000"})
    assert quantities("$1.5 million") == quantities("1,500,000 dollars")
    assert quantities("5% of 300") == quantities("5 percent of three hundred")
    assert quantity_key("300 militants") != quantity_key("1,000 militants")
    assert quantities("one of the soldiers said") == frozenset()  # "one" alone is a pronoun here


def test_rule_joins_a_rewording_and_splits_a_different_figure(rule, embedder):
    a, b, other = embedder.vectors([CLAIM_A, CLAIM_B, CLAIM_OTHER_FIGURE])
    reworded = rule.decide(CLAIM_A, CLAIM_B, a, b)
    assert reworded.same, reworded
    figure = rule.decide(CLAIM_A, CLAIM_OTHER_FIGURE, a, other)
    assert not figure.same and figure.score >= rule.threshold  # only the number check splits them
    assert not MatchRule(rule.threshold, rule.weights, check_numbers=True).decide(
        "Unemployment fell last year.", "Shares of the company rose sharply.",
        *embedder.vectors(["Unemployment fell last year.", "Shares of the company rose sharply."])).same


def test_a_decision_near_the_threshold_is_taken_on_the_vectors(rule, embedder):
    a, b, other = embedder.vectors([CLAIM_A, CLAIM_B, CLAIM_OTHER_FIGURE])
    exact = rule.decide(CLAIM_A, CLAIM_B, a, b)
    assert rule.decide_cosine(CLAIM_A, CLAIM_B, exact.cosine) == exact  # the same decision from the cosine
    near = replace(exact, score=rule.threshold + 5e-4)
    assert rule.is_close(near, 1e-3) and not rule.is_close(replace(near, score=rule.threshold + 0.01), 1e-3)
    figure = rule.decide(CLAIM_A, CLAIM_OTHER_FIGURE, a, other)
    assert not rule.is_close(replace(figure, score=rule.threshold), 1e-3)  # different figures: never "same"


def test_embeddings_do_not_depend_on_the_batch(embedder):
    alone = embedder.vectors([CLAIM_A])[0]
    among = embedder.vectors(["Short.", CLAIM_B, CLAIM_A, FILLER["a"][0]])[2]
    assert alone == among
    assert abs(sum(x * x for x in alone) - 1.0) < 1e-4  # unit length: cosine is the dot product


def test_claims_same_cli_prints_the_grouping_decision_in_order(tmp_path, rule, embedder):
    rows = [{"text_1": CLAIM_A, "text_2": CLAIM_B}, {"text_1": CLAIM_A, "text_2": CLAIM_OTHER_FIGURE},
            {"text_1": CLAIM_B, "text_2": CLAIM_A}]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n", encoding="utf-8")
    done = subprocess.run([str(Path(sys.executable).parent / "newswire"), "claims", "same", str(path)],
                          capture_output=True, text=True, timeout=300)
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1 and "line 4" in done.stderr  # the bad line is reported, the others decided
    assert [o["same"] for o in out] == [True, False, True, False] and "error" in out[3]
    for row, result in zip(rows, out):
        v1, v2 = embedder.vectors([row["text_1"], row["text_2"]])
        assert result == {"same": rule.decide(row["text_1"], row["text_2"], v1, v2).same,
                          "score": rule.decide(row["text_1"], row["text_2"], v1, v2).score}


def test_groups_are_components_whatever_the_order():
    def node(i: str, story: str, day: int) -> ClaimNode:
        when = T0 + timedelta(days=day)
        return ClaimNode(id=i, story=story, vector=(1.0,), quantity_key="", published=when, fetched_at=when,
                         carriers=(Carrier(source=f"s{i}", url=f"u{i}", published=when, article_id=f"a{i}"),))

    nodes = [node("x", "1", 2), node("y", "2", 1), node("z", "3", 3), node("w", "3", 0)]
    edges = [("x", "y"), ("y", "z"), ("z", "w")]  # z-w: one story, never joined
    results = {tuple((g.id, g.members) for g in group_claims(p, e))
               for p in itertools.permutations(nodes) for e in [edges, edges[::-1]]}
    assert len(results) == 1
    groups = group_claims(nodes, edges)
    big = next(g for g in groups if len(g.members) == 3)
    assert big.first_claim == "y" and big.id == claim_group_id("y") and big.outlets == ["sx", "sy", "sz"]


# ---------------------------------------------------------------- real Elasticsearch, through the pipeline


def two_outlets(root: Path):
    alpha = outlet(root, "alpha", {"army-aleppo": (article_text("Army reports gains near Aleppo", CLAIM_A,
                                                                FILLER["a"]), T0)})
    beta = outlet(root, "beta", {"aleppo-battle": (article_text("Fighting rages around Aleppo", CLAIM_B,
                                                                FILLER["b"]), T0 + timedelta(hours=2))})
    gamma = outlet(root, "gamma", {"aleppo-toll": (article_text("Battle for Aleppo enters second week",
                                                              CLAIM_OTHER_FIGURE, FILLER["c"]),
                                                 T0 + timedelta(hours=1))})
    return source("alpha", alpha), source("beta", beta), source("gamma", gamma)


def test_one_claim_in_two_outlets_is_one_group_and_a_different_figure_is_not(tmp_path, es, es_url, index_prefix,
                                                                           stages):
    settings = settings_for(es_url, index_prefix)
    ensure_indices(es, index_prefix)
    ingest(es, settings, stages, two_outlets(tmp_path))
    claims = claims_by_text(es, index_prefix)
    a, b, other = claims[CLAIM_A][0], claims[CLAIM_B][0], claims[CLAIM_OTHER_FIGURE][0]
    assert a["group_id"] == b["group_id"] == claim_group_id(a["id"])  # alpha published first
    assert a["group_outlets"] == ["alpha", "beta"] and a["group_size"] == 2 and a["group_first"] is True
    assert b["group_first"] is False and b["group_first_claim"] == a["id"]
    assert other["group_id"] != a["group_id"] and other["group_size"] == 1 and other["group_outlets"] == ["gamma"]
    # a second run over the same store changes nothing
    from newswire.index.claim_groups import update_groups

    before = group_state(es, index_prefix)
    assert update_groups(es, index_prefix, since=T0 - timedelta(days=1)).updated == 0
    assert group_state(es, index_prefix) == before

    # search shows the group; kNN finds the claim by meaning
    done = subprocess.run([str(Path(sys.executable).parent / "newswire"), "claims", "similar",
                           "A thousand militants died in Aleppo on Friday, the army said", "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={**settings_env(es_url, index_prefix)})
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)["hits"]
    assert hits[0]["group_id"] == a["group_id"] and hits[0]["group_outlets"] == ["alpha", "beta"]
    shown = subprocess.run([str(Path(sys.executable).parent / "newswire"), "search", "--claims", "militants"],
                           capture_output=True, text=True, timeout=300, env=settings_env(es_url, index_prefix))
    assert "2 claims, 2 outlets: alpha, beta" in shown.stdout


def settings_env(es_url: str, prefix: str) -> dict:
    import os

    return {**os.environ, "ELASTICSEARCH_URL": es_url, "NEWSWIRE_INDEX_PREFIX": prefix}


def test_groups_do_not_depend_on_ingestion_order(tmp_path, es, es_url, index_prefix, stages):
    states = []
    for n, order in enumerate([(0, 1, 2), (2, 1, 0)]):
        prefix = f"{index_prefix}-{n}"
        ensure_indices(es, prefix)
        root = tmp_path / str(n)
        root.mkdir()
        sources = two_outlets(root)
        for i in order:  # one run per source, each followed by reconcile
            ingest(es, settings_for(es_url, prefix), stages, [sources[i]])
        states.append(group_state(es, prefix))
    assert states[0] == states[1]
    assert len({s["group_id"] for s in states[0].values()}) < len(states[0])  # some claims did group


def test_a_copy_adds_an_outlet_without_adding_claims(tmp_path, es, es_url, index_prefix, stages):
    settings = settings_for(es_url, index_prefix)
    ensure_indices(es, index_prefix)
    alpha, beta, _ = two_outlets(tmp_path)
    ingest(es, settings, stages, [alpha, beta])
    before = claims_by_text(es, index_prefix)
    group = before[CLAIM_A][0]["group_id"]
    copy_text = article_text("Army reports gains near Aleppo", CLAIM_A, FILLER["a"])  # the alpha story, reprinted
    delta = outlet(tmp_path, "delta", {"reprint": (copy_text, T0 + timedelta(hours=5))})
    ingest(es, settings, stages, [source("delta", delta)])
    after = claims_by_text(es, index_prefix)
    canonical = [c for c in after[CLAIM_A] if c.get("is_canonical", True)]
    assert len(canonical) == 1 and canonical[0]["group_id"] == group
    assert canonical[0]["group_size"] == before[CLAIM_A][0]["group_size"] == 2  # no claim added
    assert canonical[0]["group_outlets"] == ["alpha", "beta", "delta"]  # the copy's outlet is
    carriers = {c["source"]: c for c in canonical[0]["group_carriers"]}
    assert carriers["delta"]["url"].endswith("/reprint") and "claim_id" not in carriers["delta"]
    assert all(c.get("group_size", 0) == 0 for c in after[CLAIM_A] if c.get("is_canonical") is False)


def test_backfill_embeds_and_groups_old_claims_in_resumable_batches(tmp_path, es, es_url, index_prefix, stages,
                                                                    embedder):
    """Claims stored before embeddings existed: the maintenance step gives them vectors and groups."""
    from newswire import maintenance

    settings = settings_for(es_url, index_prefix)
    ensure_indices(es, index_prefix)
    ingest(es, settings, stages, two_outlets(tmp_path))
    claims = f"{index_prefix}-claims"
    total = es.count(index=claims)["count"]
    stripped = {"embedding": None, "embedding_model": None, "quantity_key": None, **{
        k: None for k in ("group_id", "group_first", "group_first_claim", "group_size", "group_outlets",
                          "group_outlet_count", "group_carrier_count", "group_first_published", "group_carriers")}}
    ids = [h["_id"] for h in es.search(index=claims, size=500, _source=False)["hits"]["hits"]]
    for claim_id in ids:  # as a claim written before this change looks
        es.update(index=claims, id=claim_id, doc=stripped)
    es.indices.refresh(index=claims)
    assert es.count(index=claims, query={"exists": {"field": "group_id"}})["count"] == 0

    class Interrupted(RuntimeError):
        pass

    class FailsOnSecondBatch(ClaimEmbedder):
        calls = 0

        def vectors(self, texts):
            type(self).calls += 1
            if type(self).calls == 2:
                raise Interrupted
            return super().vectors(texts)

    with pytest.raises(Interrupted):
        maintenance.backfill_claim_groups(settings, embedder=FailsOnSecondBatch(), batch_size=2)
    es.indices.refresh(index=claims)
    assert es.count(index=claims, query={"exists": {"field": "embedding_model"}})["count"] == 2  # one batch kept

    counts = maintenance.backfill_claim_groups(settings, embedder=embedder, batch_size=2)
    assert counts["embedded"] == total - 2  # resumed: only the rest
    state = group_state(es, index_prefix)
    by_text = claims_by_text(es, index_prefix)
    assert by_text[CLAIM_A][0]["group_id"] == by_text[CLAIM_B][0]["group_id"]
    assert by_text[CLAIM_A][0]["group_outlets"] == ["alpha", "beta"]
    again = maintenance.backfill_claim_groups(settings, embedder=embedder, batch_size=2)
    assert again == {"embedded": 0, "grouped": 0, "updated": 0} and group_state(es, index_prefix) == state
