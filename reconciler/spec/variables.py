"""Where interpolated values come from: the environment, then the ``.env`` next to the specs.

Compose's precedence: a variable set in the environment wins over the same name in
``.env``. Every lookup is recorded with where its value came from, for the policy (which
may allow only some environment variables, and always the ``.env``) and for the spec cache
(whose entries hold interpolated values, so they stay valid only while the variables they
read keep their values).

``.env`` and ``env_file`` files are read with Compose's dotenv syntax, less two features
that would let a file copy the host's environment around the policy: values are taken
literally (no ``${VAR}`` expansion inside the file), and a bare ``KEY`` line, which
Compose fills from the environment, is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from reconciler.errors import Position
from reconciler.model import Origin, VariableUse
from reconciler.spec.files import MAX_FILE_BYTES

DOTENV_NAME = ".env"
_EXPORT = re.compile(r"^export\s+")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_DOUBLE_QUOTED_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class DotenvError(ValueError):
    """A line of a dotenv file that cannot be read; the message never quotes the value."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


class Variables:
    """The values a spec may interpolate, and the record of every variable it read."""

    def __init__(
        self,
        environment: Mapping[str, str],
        dotenv: Mapping[str, str],
        target: Mapping[str, str] | None = None,
    ) -> None:
        self.environment = environment
        self.dotenv = dotenv
        self.target = target or {}
        """A targets file's ``variables:`` for the engine planned: they win over both."""
        self.uses: list[VariableUse] = []

    def lookup(self, name: str, position: Position) -> str | None:
        if name in self.target:
            value: str | None = self.target[name]
            origin = Origin.TARGETS
        elif name in self.environment:
            value = self.environment[name]
            origin = Origin.ENVIRONMENT
        elif name in self.dotenv:
            value, origin = self.dotenv[name], Origin.DOTENV
        else:
            value, origin = None, Origin.UNSET
        self.uses.append(VariableUse(name, position, origin))
        return value


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#`` comments, ``export``, and single or double quotes."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = _EXPORT.sub("", line.strip())
        if not stripped or stripped.startswith("#"):
            continue
        key, equals, value = stripped.partition("=")
        key = key.strip()
        if not equals:
            raise DotenvError(
                number, "a line needs KEY=VALUE (volplan copies nothing from the environment)"
            )
        if not _KEY.match(key):
            raise DotenvError(number, f"{key!r} is not a valid variable name")
        values[key] = _value(value.strip(), number)
    return values


def _value(text: str, line: int) -> str:
    if text[:1] in {"'", '"'}:
        quote = text[0]
        end = _closing_quote(text, quote)
        if end < 0:
            raise DotenvError(line, f"the value's opening {quote} is never closed on its line")
        trailing = text[end + 1 :].strip()
        if trailing and not trailing.startswith("#"):
            raise DotenvError(line, "text after the closing quote")
        body = text[1:end]
        return body if quote == "'" else _unescape(body)
    comment = re.search(r"\s#", text)
    return (text[: comment.start()] if comment else text).strip()


def _closing_quote(text: str, quote: str) -> int:
    index = 1
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return -1


def _unescape(body: str) -> str:
    return re.sub(
        r"\\(.)", lambda m: _DOUBLE_QUOTED_ESCAPES.get(m[1], "\\" + m[1]), body, flags=re.DOTALL
    )


def read_env_file(path: str) -> dict[str, str] | None:
    """A dotenv file's values, None when there is no such file; ``OSError`` otherwise."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    if len(raw) > MAX_FILE_BYTES:
        raise DotenvError(1, f"the file is over the {MAX_FILE_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DotenvError(1, "the file is not valid UTF-8") from None
    return parse_dotenv(text)


def shown_path(path: str) -> str:
    """A path as messages show it: relative to the working folder when under it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
