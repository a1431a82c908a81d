"""The sources file: schema, defaults, error messages, and the `newswire sources` command."""

from __future__ import annotations

import subprocess
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from newswire.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]
NEWSWIRE = REPO / ".venv" / "bin" / "newswire"
BUNDLED = REPO / "config" / "sources.yaml"

THREE_MISTAKES = """\
sources:
  - name: wire
    type: feed
    url: https://news.example.org/rss
  - name: typo
    type: feed
    urll: https://news.example.org/other.rss
  - name: broken-url
    type: feed
    url: "htp//news example org"
  - name: wire
    type: sitemap
    url: https://news.example.org/sitemap.xml
"""


def write(tmp_path: Path, text: str, name: str = "sources.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NEWSWIRE), *args], capture_output=True, text=True, timeout=60, cwd=REPO)


def test_bundled_config_validates_with_seeds_first():
    config = load_config(BUNDLED)
    first = config.sources[0]
    assert (first.name, first.type) == ("seeds", "directory")
    assert first.path == (REPO / "seeds").resolve()  # relative to the config file's folder
    assert len(list(first.path.glob("*.txt"))) == 5
    feeds = [s for s in config.sources if s.type == "feed"]
    assert len(feeds) >= 3 and all(str(s.url).startswith("https://") for s in feeds)
    assert len({s.name for s in config.sources}) == len(config.sources)


def test_defaults_merge_into_sources_and_sources_override(tmp_path):
    path = write(
        tmp_path,
        """\
        defaults:
          rate_limit: 3
          tags: [news]
          timeouts: {connect: 2, read: 9}
          unconditional_after: 6h
          max_bytes: 2MB
        sources:
          - name: a
            type: feed
            url: https://a.example.org/feed
          - name: b
            type: sitemap
            url: https://b.example.org/sitemap.xml
            rate_limit: 0.5
            timeouts: {read: 30}
            schedule: "*/15 * * * *"
            enabled: false
        """,
    )
    config = load_config(path)
    a, b = config.sources
    assert (a.rate_limit, a.tags, a.timeouts.connect, a.timeouts.read) == (3, ("news",), 2, 9)
    assert a.unconditional_after == timedelta(hours=6) and a.max_bytes == 2_000_000
    assert (b.rate_limit, b.timeouts.connect, b.timeouts.read) == (0.5, 2, 30)  # timeouts merge key by key
    assert b.schedule == "*/15 * * * *" and not b.enabled
    assert [s.name for s in config.enabled] == ["a"]
    assert a.allowed_networks == ()  # nothing beyond public addresses unless asked for


def test_three_mistakes_are_each_named_with_source_and_field(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, THREE_MISTAKES))
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert problems[0].startswith("sources[1] (typo): urll: unknown field")
    assert problems[1].startswith("sources[2] (broken-url): url: ") and "valid URL" in problems[1]
    assert problems[2].startswith("sources[3] (wire): name: duplicate name 'wire'")


@pytest.mark.parametrize(
    ("source_yaml", "expected"),
    [
        ("colour: blue", "sources[0] (x): colour: unknown field"),
        ("schedule: every hour", "sources[0] (x): schedule: not a cron expression"),
        ("rate_limit: -1", "sources[0] (x): rate_limit: Input should be greater than 0"),
        ("max_bytes: lots", "sources[0] (x): max_bytes: "),
        ("timeouts: {conect: 3}", "sources[0] (x): timeouts.conect: unknown field (did you mean 'connect'?)"),
        ("path: /tmp", "sources[0] (x): path: not used by a feed source"),
        ("url: ftp://example.org/feed", "sources[0] (x): url: URL scheme should be 'http' or 'https'"),
    ],
)
def test_single_mistakes(tmp_path, source_yaml, expected):
    text = f"sources:\n  - name: x\n    type: feed\n    url: https://example.org/rss\n    {source_yaml}\n"
    if source_yaml.startswith("url:"):
        text = f"sources:\n  - name: x\n    type: feed\n    {source_yaml}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_directory_needs_path_and_unknown_top_level_and_defaults_keys(tmp_path):
    text = "colour: red\ndefaults: {rate_limt: 2}\nsources:\n  - {name: d, type: directory}\n  - {name: e, type: rss, url: https://e.example/}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    problems = caught.value.problems
    assert "colour: unknown field" in problems
    assert any(p.startswith("defaults.rate_limt: unknown field (did you mean 'rate_limit'?)") for p in problems)
    assert any(p.startswith("sources[0] (d): path: required for a directory source") for p in problems)
    assert any(p.startswith("sources[1] (e): type: ") for p in problems)


def test_unreadable_and_non_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "sources: [\n"))


def test_cli_validate_prints_three_precise_errors_and_fails(tmp_path):
    result = run_cli("sources", "validate", str(write(tmp_path, THREE_MISTAKES)))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, result.stderr
    assert "sources[1] (typo): urll: unknown field" in errors[0]
    assert "sources[2] (broken-url): url:" in errors[1]
    assert "sources[3] (wire): name: duplicate name" in errors[2]


def test_cli_validate_and_list_the_bundled_config():
    result = run_cli("sources", "validate")
    assert result.returncode == 0, result.stderr
    count = len(load_config(BUNDLED).sources)
    assert result.stdout.startswith(f"ok: {count} sources")
    listing = run_cli("sources", "list")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "URL/PATH", "ENABLED", "SCHEDULE"]
    assert lines[1].split()[:2] == ["seeds", "directory"] and len(lines) == count + 1
    assert any("https://feeds.bbci.co.uk/news/world/rss.xml" in line for line in lines)
