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

_HEAD = re.compile(
    r"\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)"
    r"|\{(?:(?P<braced>[_a-z][_a-z0-9]*)(?P<separator>:?[-+?])?)?)"
)
MAX_NESTING = 16
"""Defaults inside defaults (``${A:-${B:-…}}``) deeper than this are refused: each level
is a recursion, and a spec must not be able to exhaust the stack."""


class Template(str):
    """A spec value to be interpolated when the spec is loaded, such as ``${TOKEN}``: the
    spec writer writes it as it is, where it writes every other ``$`` as ``$$``."""


VARIABLE_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
"""What ``$NAME`` and ``${NAME}`` can name."""


class InvalidTemplate(ValueError):
    """A ``${`` that starts no valid reference (Compose: "Invalid template")."""


class MissingRequired(ValueError):
    """A ``${VAR:?message}`` or ``${VAR?message}`` whose variable has no (non-empty) value."""

    def __init__(self, variable: str, reason: str) -> None:
        self.variable = variable
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"required variable {variable} is missing a value{detail}")


def substitute(template: str, lookup: Lookup, depth: int = 0) -> str:
    """``template`` with every reference replaced; raises the first error, as Compose does.

    compose-go matches ``${NAME<separator>…}`` with a greedy ``.*`` up to the last ``}`` of
    the line, cuts it at the brace that closes the reference, and interpolates the rest
    recursively. Scanning left to right gives the same result, in linear time and without
    a recursion per reference (Python's regular expressions backtrack, Go's do not).
    """
    if "$" not in template:
        return template
    if depth > MAX_NESTING:
        raise InvalidTemplate(f"nested deeper than {MAX_NESTING} levels")
    parts: list[str] = []
    index = 0
    while (start := template.find("$", index)) >= 0:
        parts.append(template[index:start])
        value, index = _reference(template, start, lookup, depth)
        parts.append(value)
    parts.append(template[index:])
    return "".join(parts)


def _reference(template: str, start: int, lookup: Lookup, depth: int) -> tuple[str, int]:
    """The value of the reference at ``start``, and where the text after it begins."""
    match = _HEAD.match(template, start)
    if match is None:  # a "$" that starts no reference stays as written
        return "$", start + 1
    if match["escaped"]:
        return "$", match.end()
    if match["named"]:
        return lookup(match["named"]) or "", match.end()
    name, separator = match["braced"], match["separator"]
    if name is None:
        raise InvalidTemplate(template)
    if separator is None:
        if not template.startswith("}", match.end()):
            raise InvalidTemplate(template)
        return lookup(name) or "", match.end() + 1
    end = _reference_end(template, start)
    if end < 0:
        raise InvalidTemplate(template)
    argument = template[match.end() : end]
    return _apply(name, separator, argument, lookup, depth + 1), end + 1


def _reference_end(template: str, start: int) -> int:
    """Where the ``${`` at ``start`` ends: the brace that closes it (compose-go counts a
    ``{`` and skips the character after it), else the line's last ``}``; -1 if none.

    That is compose-go's greedy match up to the line's last ``}``, cut at the closing
    brace found within it, in one pass that stops as soon as the reference closes.
    """
    depth, index, last = 0, start, -1
    while index < len(template) and template[index] != "\n":
        if template[index] == "}":
            depth -= 1
            if depth == 0:
                return index
            last = index
        if template[index] == "{":
            depth += 1
            index += 1
        index += 1
    return last


def _apply(name: str, separator: str, argument: str, lookup: Lookup, depth: int) -> str:
    value = lookup(name)
    present = value is not None and (not separator.startswith(":") or value != "")
    if separator.endswith("?"):
        if not present:
            raise MissingRequired(name, substitute(argument, lookup, depth))
        return value or ""
    if separator.endswith("-"):
        return (value or "") if present else substitute(argument, lookup, depth)
    return substitute(argument, lookup, depth) if present else (value or "")
