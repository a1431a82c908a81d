"""Extraction: a fetched page or a local file to a cleaned ``Article``.

- :mod:`.article`: the entry points (HTML, plain text and Markdown, pages, local files) and ids;
- :mod:`.decode`: the one bytes-to-text decoder (declared charset, stray bytes repaired);
- :mod:`.meta`: what a page says about itself (title, authors, date, canonical link, ...);
- :mod:`.dates`: dates in short free-text lines (by-lines and date stamps);
- :mod:`.textclean`: boilerplate removal by line form and position;
- :mod:`.normalize`: the text contract (NFC, mojibake repaired, one blank line between paragraphs);
- :mod:`.quality`: the quality gate (is it an article, and how good).
"""

from newswire.extract.article import (
    DEFAULT_OPTIONS,
    ExtractOptions,
    detect_language,
    extract_html,
    extract_page,
    extract_path,
    extract_text,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "ExtractOptions",
    "detect_language",
    "extract_html",
    "extract_page",
    "extract_path",
    "extract_text",
]
