"""A body split into chunks is read whole; a hover card inside a sentence leaves it (newswire.extract.layout)."""

from __future__ import annotations

import lxml.html

from newswire.extract import extract_html
from newswire.extract.article import ExtractOptions
from newswire.extract.layout import body_chunks, drop_inline_cards, restore_chunks

URL = "https://news.example/2024/05/harbour"
WITHOUT_REPAIR = ExtractOptions(repair_layout=False)


def _chunk(part: int) -> str:
    return "".join(
        f"<p>Part {part}, paragraph {i}: the harbour authority said the new breakwater would cost "
        f"{part * 10 + i} million and protect the eastern quays from winter storms for decades.</p>"
        for i in range(3))


def _split_page(second_story: str = "") -> str:
    """An article cut into three chunks of one class, with ads between them (the layout of a real DEV page)."""
    chunk = '<div class="grid--item body body__container article-body">{}</div>'
    ad = '<div class="grid--item ad"><div class="ad-slot">Advertisement</div></div>'
    chunks = "".join(f'<div class="grid">{chunk.format(_chunk(part))}{ad}</div>' for part in (1, 2, 3))
    return f"""<html><head><title>Harbour gets a breakwater</title></head><body><main>
<article class="article main-content"><h1>Harbour gets a breakwater</h1>
<div class="article__chunks"><div>{chunks}</div></div></article>{second_story}</main></body></html>"""


def test_every_chunk_of_a_split_body_is_extracted():
    assert "Part 2" not in extract_html(_split_page(), url=URL, options=WITHOUT_REPAIR).text  # what trafilatura does
    text = extract_html(_split_page(), url=URL).text
    assert "Part 1, paragraph 0" in text and "Part 2, paragraph 2" in text and "Part 3, paragraph 1" in text
    assert text.index("Part 1, paragraph 2") < text.index("Part 2, paragraph 0") < text.index("Part 3, paragraph 0")
    assert "Advertisement" not in text


def test_the_next_story_preloaded_with_the_same_markup_is_not_joined():
    other = _split_page().split("<main>")[1].split("</main>")[0].replace("Part ", "Other story part ")
    tree = lxml.html.fromstring(_split_page(second_story=other))
    chunks = body_chunks(tree)
    assert len(chunks) == 3
    assert not any("Other story" in paragraph for chunk in chunks for paragraph in chunk)


def test_chunks_already_in_the_text_are_left_as_they_are():
    chunks = [["First chunk one.", "First chunk two."], ["Second chunk one.", "Second chunk two."]]
    lines = ["Intro.", "First chunk one.", "First chunk two.", "Second chunk one.", "Second chunk two."]
    assert restore_chunks(lines, chunks) == lines
    assert restore_chunks(["Intro.", "First chunk one.", "First chunk two.", "Footer."], chunks) == [
        "Intro.", "First chunk one.", "First chunk two.", "Second chunk one.", "Second chunk two.", "Footer."]
    # trafilatura chose another container (the first chunk is not in its text): nothing is added
    assert restore_chunks(["Something else."], chunks) == ["Something else."]


def test_containers_with_one_paragraph_each_are_no_chunks():
    teasers = "".join(f'<div class="teaser"><p>Teaser {i} about the harbour and its long history of storms.</p></div>'
                      for i in range(5))
    assert body_chunks(lxml.html.fromstring(f"<html><body>{teasers}</body></html>")) == []


CARD = ('<span class="people"><a href="/people/jane-roe">Jane Roe</a><span class="card"><span>'
        '<img src="/img/roe.jpg" alt=""><a class="name" href="/people/jane-roe">Jane Roe</a>'
        '<a href="/news/1">Senate passes the harbour funding bill after a long night</a> '
        '<a href="/news/2">Roe asks court for leniency in threats case</a></span></span></span>')


def test_a_hover_card_inside_a_sentence_is_removed():
    paragraphs = "".join(f"<p>Paragraph {i} of the report on the threats case, which the court will hear "
                         f"again next month after new evidence emerged.</p>" for i in range(4))
    page = (f"<html><head><title>Man pleads guilty</title></head><body><article><h1>Man pleads guilty</h1>"
            f"<p>A man pleaded guilty to threatening Rep. {CARD} (D-Minn.), prosecutors said on Monday.</p>"
            f"{paragraphs}</article></body></html>")
    assert "Senate passes" in extract_html(page, url=URL, options=WITHOUT_REPAIR).text
    text = extract_html(page, url=URL).text
    assert "threatening Rep. Jane Roe (D-Minn.), prosecutors said on Monday." in text
    assert "Senate passes" not in text and "leniency" not in text


def test_a_paragraph_with_a_picture_and_links_in_its_prose_keeps_them():
    tree = lxml.html.fromstring(
        '<html><body><p><img src="/a.jpg"> The mayor, <em>citing <a href="/r">the report</a> and '
        '<a href="/s">the survey</a> published last week by the transport office</em>, said fares would fall.</p>'
        '</body></html>')
    assert drop_inline_cards(tree) == 0
