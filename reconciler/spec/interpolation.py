"""Compose's variable interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?message}``… Pure.

A port of compose-go's ``template`` package (template/template.go), so a spec means what
the same text means in a Compose file: ``$$`` is a literal ``$``; ``$VAR`` and ``${VAR}``
are replaced by the value, or by nothing when unset; ``:-``/``-`` give a default when the
variable is unset or empty / unset; ``:+``/``+`` a replacement when it is set and not
empty / set; ``:?``/``?`` make it required. Defaults, replacements and messages are
interpolated in turn, and only when used, so ``${A:+${B}}`` reads ``B`` only when ``A``
is set. A ``$`` followed by anything else stays as written; ``${`` that starts no valid
reference is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str], str | None]
"""A variable's value, or None when it is unset."""

_PATTERN = re.compile(
    r"\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)"
    r"|\{(?:(?P<braced>[_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|(?P<invalid>)))"
)
_SEPARATORS = (":?", "?", ":-", "-", ":+", "+")


class InvalidTemplate(ValueError):
    """A ``${`` that starts no valid reference (Compose: "Invalid template")."""


class MissingRequired(ValueError):
    """A ``${VAR:?message}`` or ``${VAR?message}`` whose variable has no (non-empty) value."""

    def __init__(self, variable: str, reason: str) -> None:
        self.variable = variable
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"required variable {variable} is missing a value{detail}")


def substitute(template: str, lookup: Lookup) -> str:
    """``template`` with every reference replaced; raises the first error, as Compose does."""
    if "$" not in template:
        return template
    return _PATTERN.sub(lambda match: _replacement(match[0], lookup), template)


def _replacement(matched: str, lookup: Lookup) -> str:
    separator = _first_separator(matched)
    closing = _first_closing_brace(matched)
    rest = ""
    if closing > -1:
        matched, rest = matched[: closing + 1], matched[closing + 1 :]
    match = _PATTERN.match(matched)
    assert match is not None  # a prefix ending at the matching brace still matches
    if match["escaped"]:
        return "$"
    name = match["named"] or match["braced"]
    if not name:
        raise InvalidTemplate(matched)
    if match["braced"] and separator is not None and separator in name:
        return _apply(name, separator, lookup) + substitute(rest, lookup)
    return lookup(name) or ""


def _first_separator(text: str) -> str | None:
    """The separator that comes first in ``text``, as compose-go picks its function."""
    found = [(text.find(s), s) for s in _SEPARATORS if s in text]
    return min(found)[1] if found else None


def _first_closing_brace(text: str) -> int:
    depth, index = 0, 0
    while index < len(text):
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        if text[index] == "{":
            depth += 1
            index += 1
        index += 1
    return -1


def _apply(substitution: str, separator: str, lookup: Lookup) -> str:
    name, _, argument = substitution.partition(separator)
    value = lookup(name)
    present = value is not None and (not separator.startswith(":") or value != "")
    if separator.endswith("?"):
        if not present:
            raise MissingRequired(name, substitute(argument, lookup))
        return value or ""
    if separator.endswith("-"):
        return (value or "") if present else substitute(argument, lookup)
    return substitute(argument, lookup) if present else (value or "")
