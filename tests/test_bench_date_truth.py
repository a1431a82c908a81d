"""The date truth of bench/eval_e2e.py: what a page states in standard markup, read by the bench alone."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

from eval_e2e import parse_day, stated_dates  # noqa: E402


def _page(head: str = "", body: str = "") -> bytes:
    return f"<html><head>{head}</head><body>{body}<p>text</p></body></html>".encode()


@pytest.mark.parametrize(("markup", "days"), [
    ('<meta property="article:published_time" content="2019-11-19T01:19:34.819Z">', {"2019-11-19"}),
    ('<meta itemprop="datePublished" content="2019-11-19 02:24:00">', {"2019-11-19"}),
    ('<meta name="pubdate" content="November 20, 2019 13:42">', {"2019-11-20"}),
    ('<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", "datePublished": "2022-05-04T03:00:00 UTC",'
     ' "comment": {"@type": "Comment", "datePublished": "2022-06-01"}}]}</script>', {"2022-05-04"}),
    ('<meta property="article:modified_time" content="2019-11-19T01:19:34Z">', set()),  # not the publication
    ('<meta name="sn-post-date" content="2019/11/19">', set()),  # a site's own name: not standard markup
    ('<script type="application/ld+json">{"datePublished": "0001-01-01T00:00:00Z"}</script>', set()),  # placeholder
])
def test_stated_dates_from_head_markup(markup, days):
    assert stated_dates(_page(head=markup)) == days


def test_microdata_counts_for_the_page_not_for_its_comments():
    body = ('<div itemscope itemtype="https://schema.org/NewsArticle"><span itemprop="datePublished" '
            'content="2020-04-27T18:50:24+02:00">27.04.2020</span></div>'
            '<div itemscope itemtype="https://schema.org/Comment"><time itemprop="datePublished" '
            'datetime="2020-04-28T10:27:29+0200">28.04.2020</time></div>'
            '<span class="date">Published November 19, 2019</span>')  # visible text: not markup
    assert stated_dates(_page(body=body)) == {"2020-04-27"}


def test_parse_day_refuses_what_is_no_date():
    assert parse_day("2019-11-19T06:56-05:00") == "2019-11-19"
    assert parse_day("20191119") == "2019-11-19"
    assert [parse_day(v) for v in ("2022-25-10", "2022-01.26", "2017/01", "", "2999-01-01")] == [None] * 5
