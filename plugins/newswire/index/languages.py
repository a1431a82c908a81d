"""Which languages get their own analysed fields, and with which analyzer.

English text is analysed on the main ``title``/``text`` fields. Articles in another
language the cluster has a built-in analyzer for also get ``title_<code>`` and
``text_<code>`` fields, analysed with that language's analyzer (stemming, stop
words). The same table names the stop-word list used when the cluster lacks the
language analyzers (``analysis-common``): the standard analyzer with ``_<name>_``
stop words is core and works everywhere.
"""

from __future__ import annotations

#: ISO 639-1 code (as py3langid returns it) -> Elasticsearch language analyzer name.
#: The analyzer names double as the names of the built-in stop-word lists.
LANGUAGE_ANALYZERS: dict[str, str] = {
    "ar": "arabic",
    "bg": "bulgarian",
    "bn": "bengali",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "gl": "galician",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "ja": "cjk",
    "ko": "cjk",
    "lt": "lithuanian",
    "lv": "latvian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "th": "thai",
    "tr": "turkish",
    "zh": "cjk",
}

#: Codes that mean the same analyzer as another code.
CODE_ALIASES: dict[str, str] = {"nb": "no", "nn": "no"}

ENGLISH = "en"


def field_language(language: str | None) -> str | None:
    """The code whose ``text_<code>`` field an article in ``language`` fills, if any.

    English returns None: it lives in the main fields. Region tags such as
    ``pt-BR`` are reduced to the language.
    """
    if not language:
        return None
    code = language.lower().replace("_", "-").split("-")[0]
    code = CODE_ALIASES.get(code, code)
    return code if code in LANGUAGE_ANALYZERS else None


def analyzer_name(code: str) -> str:
    """The name of the project's analyzer for a language code (defined in the index settings)."""
    return f"nw_{code}"
