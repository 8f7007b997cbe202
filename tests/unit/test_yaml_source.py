"""Hostile YAML: every trick gives one clear error with file:line:column, never a crash."""

from __future__ import annotations

import pytest

from reconciler.errors import SpecError
from reconciler.spec.files import MAX_FILE_BYTES
from reconciler.spec.yaml_source import MAX_DEPTH, MAX_NODES, parse_documents

HOSTILE = {
    "alias expansion (billion laughs)": (
        "a: &a [lol, lol]\nb: [*a, *a]\n",
        "f.yaml:1:4: error: anchors and aliases are not allowed [yaml-alias]",
    ),
    "an anchor alone": (
        "a: &a 1\n",
        "f.yaml:1:4: error: anchors and aliases are not allowed [yaml-alias]",
    ),
    "merge key": (
        "<<: {b: 1}\n",
        "f.yaml:1:1: error: merge keys ('<<') are not allowed [yaml-tag]",
    ),
    "python object tag": (
        "a: !!python/object/apply:os.system [id]\n",
        "f.yaml:1:4: error: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not "
        "allowed: only YAML's standard types are [yaml-tag]",
    ),
    "python name tag on a scalar": (
        "a: !!python/name:os.system ''\n",
        "f.yaml:1:4: error: tag 'tag:yaml.org,2002:python/name:os.system' is not allowed: only "
        "YAML's standard types are [yaml-tag]",
    ),
    "local tag": (
        "a: !Ref x\n",
        "f.yaml:1:4: error: tag '!Ref' is not allowed: only YAML's standard types are [yaml-tag]",
    ),
    "non-specific tag": (
        "a: ! 12\n",
        "f.yaml:1:4: error: tag '!' is not allowed: only YAML's standard types are [yaml-tag]",
    ),
    "set tag": (
        "a: !!set {x, y}\n",
        "f.yaml:1:4: error: tag 'tag:yaml.org,2002:set' is not allowed: only YAML's standard "
        "types are [yaml-tag]",
    ),
    "binary tag": (
        "a: !!binary aGVsbG8=\n",
        "f.yaml:1:4: error: tag 'tag:yaml.org,2002:binary' is not allowed: only YAML's standard "
        "types are [yaml-tag]",
    ),
    "YAML 1.1 directive (would read yes as true, 0755 as octal)": (
        "%YAML 1.1\n---\na: yes\n",
        "f.yaml:1:1: error: YAML directives (%YAML, %TAG) are not allowed: specs are read as "
        "YAML 1.2 [yaml-directive]",
    ),
    "TAG directive": (
        "# x\n%TAG !py! tag:yaml.org,2002:python/\n---\na: 1\n",
        "f.yaml:2:1: error: YAML directives (%YAML, %TAG) are not allowed: specs are read as "
        "YAML 1.2 [yaml-directive]",
    ),
    "directive in a second document": (
        "a: 1\n...\n%YAML 1.2\n---\nb: 2\n",
        "f.yaml:3:1: error: YAML directives (%YAML, %TAG) are not allowed: specs are read as "
        "YAML 1.2 [yaml-directive]",
    ),
    "duplicate key names both positions": (
        "a: 1\nb:\n  c: 2\n  c: 3\n",
        "f.yaml:4:3: error: duplicate key 'c' (first defined at f.yaml:3:3) [duplicate-key]",
    ),
    "duplicate key spelled differently (quoted)": (
        "a: 1\n'a': 2\n",
        "f.yaml:2:1: error: duplicate key 'a' (first defined at f.yaml:1:1) [duplicate-key]",
    ),
    "complex key": (
        "? [a, b]\n: 1\n",
        "f.yaml:1:3: error: mapping keys must be scalars [yaml-key]",
    ),
    "explicit int tag on text": (
        "a: !!int ''\n",
        "f.yaml:1:4: error: '' is not a valid int [yaml-scalar]",
    ),
    "explicit bool tag on text": (
        "a: !!bool maybe\n",
        "f.yaml:1:4: error: 'maybe' is not a valid bool [yaml-scalar]",
    ),
    "integer past Python's conversion limit": (
        "a: " + "9" * 5000 + "\n",
        "f.yaml:1:4: error: number too long to read (5000 characters) [yaml-scalar]",
    ),
    "control character": (
        "a: b\nc: \x07\n",
        "f.yaml:2:4: error: invalid YAML: character U+0007 is not allowed (control characters "
        "are not allowed) [yaml-syntax]",
    ),
    "nesting past the depth limit (a C-composer crash before)": (
        "[" * 100_000,
        f"f.yaml:1:{MAX_DEPTH + 2}: error: nested deeper than {MAX_DEPTH} [yaml-depth]",
    ),
    "block nesting past the depth limit": (
        "".join(" " * i + "k:\n" for i in range(MAX_DEPTH + 2)),
        f"f.yaml:{MAX_DEPTH + 1}:{MAX_DEPTH + 1}: error: nested deeper than {MAX_DEPTH} "
        "[yaml-depth]",
    ),
    "too many nodes": (
        "[" + "a," * MAX_NODES + "a]",
        f"f.yaml:1:{2 * MAX_NODES}: error: more than {MAX_NODES} YAML nodes [yaml-size]",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_yaml_gives_one_clear_error(case: str) -> None:
    text, expected = HOSTILE[case]

    with pytest.raises(SpecError) as caught:
        parse_documents("f.yaml", text.encode())

    assert [str(p) for p in caught.value.problems] == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a: 1\n\xed\xa0\x80\n", "f.yaml:2:1: error: file is not valid UTF-8 [encoding]"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00",
            "f.yaml:1:1: error: file holds NUL bytes: not a YAML text file [binary-file]",
        ),
        (
            b"#" * (MAX_FILE_BYTES + 1),
            f"f.yaml:1:1: error: file is {MAX_FILE_BYTES + 1} bytes, over the "
            f"{MAX_FILE_BYTES}-byte limit [file-too-large]",
        ),
    ],
    ids=["lone surrogate", "binary", "too large"],
)
def test_undecodable_input_is_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_documents("f.yaml", raw)

    assert [str(p) for p in caught.value.problems] == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: yes\nb: no\nc: on\n", {"a": "yes", "b": "no", "c": "on"}),
        ("a: 0755\nb: 0o755\nc: 0x1f\nd: 1_000\n", {"a": 755, "b": 493, "c": 31, "d": 1000}),
        ("a: true\nb: ~\nc: 1.5\nd: '1'\n", {"a": True, "b": None, "c": 1.5, "d": "1"}),
        ("a: !!str 12\nb: !!int '7'\nc: 2001-12-14\n", {"a": "12", "b": 7, "c": "2001-12-14"}),
        ("\ufeffa: [1, {b: c}]\n", {"a": [1, {"b": "c"}]}),
    ],
    ids=["YAML 1.2 booleans", "integers", "core types", "standard tags", "BOM and nesting"],
)
def test_standard_yaml_12_reads_as_expected(text: str, expected: object) -> None:
    (document,) = parse_documents("f.yaml", text.encode())

    assert document.data == expected


def test_a_repeated_text_keeps_the_type_its_style_gives_it() -> None:
    """Typed scalars are remembered by text and style: quoting must still make a string."""
    text = b"a: 10\nb: '10'\nc: true\nd: \"true\"\ne: !!str 10\nf: 10\n"

    for _ in range(2):
        (document,) = parse_documents("f.yaml", text)
        typed = {key: (type(value), value) for key, value in document.data.items()}
        assert typed == {
            "a": (int, 10),
            "b": (str, "10"),
            "c": (bool, True),
            "d": (str, "true"),
            "e": (str, "10"),
            "f": (int, 10),
        }


def test_every_document_and_position_is_kept() -> None:
    first, second, empty = parse_documents("f.yaml", b"a:\n  - b: 1\n---\n[x]\n---\n")

    assert first.data == {"a": [{"b": 1}]}
    assert str(first.position_of(("a", 0, "b"))) == "f.yaml:2:5"
    assert str(first.position_of(("a", 0))) == "f.yaml:2:5"
    assert str(first.position_of(("a", 0, "missing"))) == "f.yaml:2:5"
    assert str(second.position_of((0,))) == "f.yaml:4:2"
    assert empty.data is None
    assert parse_documents("f.yaml", b"# only a comment\n") == []
