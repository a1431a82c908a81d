"""newswire: fetch, clean, deduplicate, extract claims from and index news articles."""

__version__ = "0.1.0"
