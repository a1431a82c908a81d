"""docker-compose.yml as `docker compose config` resolves it, without a Docker engine.

No library on PyPI implements the Compose specification's interpolation (docker-compose 1.x,
which did, is retired), so this follows the specification's "Interpolation" section, as
compose-go implements it:

- ``$VAR`` and ``${VAR}``: the value; unset gives "" (Compose warns);
- ``${VAR:-default}``: the default when VAR is unset *or empty*; ``${VAR-default}``: only when unset;
- ``${VAR:?message}``: an error when unset or empty; ``${VAR?message}``: only when unset;
- ``${VAR:+other}``: ``other`` when set and non-empty; ``${VAR+other}``: when set;
- ``$$``: a literal ``$``; defaults may hold further ``${...}`` (resolved only when used).

Values (never keys) are interpolated, after YAML anchors and ``<<`` merges, before profiles
are applied: a ``:?`` in a service of an inactive profile still stops `docker compose`.
``resolve`` then keeps the services of the active profiles, as `up` would start them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(ValueError):
    """A required variable is missing, or the syntax is not Compose's."""


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """One string with Compose's rules applied."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i + 2)
            out.append(_expression(text[i + 2:end], variables))
            i = end + 1
        elif (match := _NAME.match(text, i + 1)) is not None:
            out.append(variables.get(match.group(), ""))
            i = match.end()
        else:
            raise InterpolationError(f"invalid interpolation format in {text!r}: escape a literal $ as $$")
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text.startswith("${", j):
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise InterpolationError(f"unclosed ${{ in {text!r}")


def _expression(body: str, variables: Mapping[str, str]) -> str:
    match = _NAME.match(body)
    if match is None:
        raise InterpolationError(f"invalid variable name in ${{{body}}}")
    name, rest = match.group(), body[match.end():]
    value = variables.get(name)
    if not rest:
        return value or ""
    for operator in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(operator):
            argument = rest[len(operator):]
            break
    else:
        raise InterpolationError(f"invalid interpolation format ${{{body}}}")
    unset_or_empty = not value if operator.startswith(":") else value is None
    if operator.endswith("-"):
        return interpolate(argument, variables) if unset_or_empty else value
    if operator.endswith("?"):
        if unset_or_empty:
            raise InterpolationError(f"required variable {name} is missing a value: {interpolate(argument, variables)}")
        return value
    return "" if unset_or_empty else interpolate(argument, variables)


def _walk(node: Any, variables: Mapping[str, str], path: str) -> Any:
    if isinstance(node, str):
        try:
            return interpolate(node, variables)
        except InterpolationError as err:
            raise InterpolationError(f"{path}: {err}") from None
    if isinstance(node, dict):
        return {key: _walk(value, variables, f"{path}.{key}") for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, variables, f"{path}[{n}]") for n, value in enumerate(node)]
    return node


def load(variables: Mapping[str, str], compose_file: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The whole file interpolated (every service, whatever its profile), or InterpolationError."""
    return _walk(yaml.safe_load(compose_file.read_text(encoding="utf-8")), variables, "")


def active_profiles(variables: Mapping[str, str]) -> set[str]:
    return {p.strip() for p in variables.get("COMPOSE_PROFILES", "").split(",") if p.strip()}


def resolve(variables: Mapping[str, str], compose_file: Path = COMPOSE_FILE) -> dict[str, Any]:
    """What `docker compose up` works with: the interpolated file, only the active services."""
    config = load(variables, compose_file)
    profiles = active_profiles(variables)
    config["services"] = {
        name: service for name, service in config["services"].items()
        if not service.get("profiles") or profiles & set(service["profiles"])
    }
    return config


def dependencies(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's depends_on in the long form (the short list form means service_started, required)."""
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return {name: {"condition": "service_started", "required": True} for name in depends}
    return {name: {"condition": "service_started", "required": True, **spec} for name, spec in depends.items()}


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a .env file (comments and blank lines skipped), as Compose reads it."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            value = re.split(r"\s#", value, maxsplit=1)[0] if not value.lstrip().startswith(("'", '"')) else value
            out[name.strip()] = value.strip().strip("'\"")
    return out
