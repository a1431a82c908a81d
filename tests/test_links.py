"""Lines that are a link's text (related stories, link lists, teasers) leave the extracted text."""

from __future__ import annotations

import lxml.html

from newswire.extract import extract_html
from newswire.extract.links import MAX_ANCHORS, drop_link_lines, is_link_line, link_texts

_PARA = (
    "The council voted on Tuesday to extend the night bus service to the northern districts, after a year "
    "of complaints from shift workers who said the last bus left before their shifts ended."
)


def _page(extra: str) -> str:
    body = "".join(f"<p>{_PARA} Paragraph {i} adds that the change costs {i} million a year.</p>" for i in range(6))
    return f"""<html><head><title>Council extends night buses</title></head><body><article>
<h1>Council extends night buses</h1>{body}
<p>The mayor said, according to <a href="/report">the transport report</a>, that ridership would double.</p>
{extra}
</article></body></html>"""


RELATED = """<ul>
<li><a href="/a/1">Harbour ferry fares rise again</a> Commuters face a third increase this year</li>
<li><a href="/a/2">New cycle lanes open downtown</a> The city finished the network two months early</li>
<li><a href="/a/3">Library hours cut at weekends</a> Budget pressure forces branch closures on Sundays</li>
</ul>
<ul><li><a href="/t/8">Ten charts that explain the housing market</a></li>
<li><a href="/t/9">Stadium plan approved after long debate</a></li>
<li><a href="/t/10">Why the rail strike could last into spring</a> [Video]</li></ul>"""


def test_related_story_lists_and_teasers_are_dropped():
    article = extract_html(_page(RELATED), url="https://news.example/night-buses")
    assert article.reason is None
    for gone in ("Harbour ferry", "Commuters face", "cycle lanes", "Library hours", "Ten charts",
                 "Stadium plan", "rail strike"):
        assert gone not in article.text
    assert "according to the transport report, that ridership would double." in article.text
    assert article.text.count("Paragraph") == 6


def test_article_lists_that_carry_links_are_kept():
    extra = """<p>What the new timetable changes:</p><ul>
<li><a href="/routes/n4">Route N4</a> runs every twenty minutes until four</li>
<li>Route N7 now stops at the hospital</li>
<li>Details are at <a href="https://transit.example/night">transit.example/night</a></li>
</ul><p>Printed timetables are at <a href="https://transit.example">www.transit.example</a></p>"""
    article = extract_html(_page(extra), url="https://news.example/night-buses")
    assert "- Route N4 runs every twenty minutes until four" in article.text  # link run into a lowercase clause
    assert "- Details are at transit.example/night" in article.text
    assert "Route N7 now stops at the hospital" in article.text


def test_link_line_rules():
    links = frozenset({"Pochettino fired by Tottenham", "Why the rail strike could last", "the report",
                       "Ten charts that explain the housing market"})
    assert is_link_line("Pochettino fired by Tottenham", links)
    assert is_link_line("- Ten charts that explain the housing market", links)
    assert is_link_line("Why the rail strike could last [Video]", links)  # a tag after the headline
    assert is_link_line("- Pochettino fired by Tottenham He took the club to the final in June", links)  # teaser
    assert not is_link_line("- Pochettino fired by Tottenham after a poor run", links)  # one clause: kept
    assert not is_link_line("Pochettino fired by Tottenham.", links)  # a sentence is article text
    assert not is_link_line("Officials cited the report", links)  # the link is a small part
    assert not is_link_line("Pochettino fired by Tottenham", frozenset())
    assert drop_link_lines(["Pochettino fired by Tottenham", "Officials cited the report"], links) == [
        "Officials cited the report"
    ]


def test_link_texts_are_bounded_and_skip_addresses():
    anchors = "".join(f'<a href="/x/{i}">story {i}</a>' for i in range(MAX_ANCHORS + 50))
    tree = lxml.html.fromstring(
        f'<html><body><a name="top">Top</a><a href="/">  Home \n page </a>'
        f'<a href="https://a.example">www.a.example</a><a href="mailto:x@a.example">x@a.example</a>{anchors}</body></html>'
    )
    texts = link_texts(tree)
    assert "Home page" in texts  # whitespace normalised
    assert "Top" not in texts  # no href: not a link
    assert "www.a.example" not in texts and "x@a.example" not in texts  # printed addresses are text
    assert len(texts) <= MAX_ANCHORS


def test_the_page_printing_its_own_address_is_not_text():
    extra = "<p>https://news.example/night-buses</p><p>https://transit.example/night</p>"
    article = extract_html(_page(extra), url="https://news.example/night-buses")
    assert "https://news.example/night-buses" not in article.text
    assert "https://transit.example/night" in article.text  # another address is what the page states
    assert drop_link_lines(["https://news.example/a/", "Text"], frozenset(), ("https://news.example/a", None)) == [
        "Text"
    ]


def test_a_page_of_links_only_is_still_named_a_link_page():
    menu = ("<html><head><title>Sections</title></head><body><ul>"
            + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(40)) + "</ul></body></html>")
    article = extract_html(menu, url="https://news.example/sections")
    assert article.reason == "not-article"
    assert drop_link_lines(["Section 1", "Section 2"], frozenset({"Section 1", "Section 2"})) == ["Section 1", "Section 2"]
