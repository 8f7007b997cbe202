"""Interpolation against compose-go's own test tables.

Every case below is taken from compose-spec/compose-go, template/template_test.go, at
commit e70e961c3a3acebf0800b882f1afb3dbf1fb74a2 (the test function is named in each
table), with its ``defaults`` mapping; a case changed or dropped here is a deviation from
Compose and must say why.
"""

from __future__ import annotations

import pytest

from reconciler.spec.interpolation import InvalidTemplate, MissingRequired, substitute

DEFAULTS = {"FOO": "first", "BAR": "", "JSON": '{"json":2}'}

SUBSTITUTIONS = [
    # TestEscaped, TestSubstituteNoMatch
    ("$${foo}", "${foo}"),
    ("foo", "foo"),
    # TestUnescaped
    ("a $ string", "a $ string"),
    ("^REGEX$", "^REGEX$"),
    ("$}", "$}"),
    ("$", "$"),
    # TestNonBraced (docker/compose#8601)
    ("$FOO-bar", "first-bar"),
    # TestNoValueNoDefault, TestValueNoDefault
    ("This ${missing} var", "This  var"),
    ("This ${BAR} var", "This  var"),
    ("This $FOO var", "This first var"),
    ("This ${FOO} var", "This first var"),
    # TestNoValueWithDefault
    ("ok ${missing:-def}", "ok def"),
    ("ok ${missing-def}", "ok def"),
    # TestLazyDefaultDoesNotWarn, TestLazyDefaultWarnsWhenUsed
    ("${A:+${A},}B", "B"),
    ("${A:-${B}}", ""),
    # TestEmptyValueWithSoftDefault … TestNonAlphanumericDefault
    ("ok ${BAR:-def}", "ok def"),
    ("ok ${FOO:-def}", "ok first"),
    ("ok ${BAR-def}", "ok "),
    ("ok ${UNSET_VAR:+presence_value}", "ok "),
    ("ok ${UNSET_VAR+presence_value}", "ok "),
    ("ok ${FOO:+presence_value}", "ok presence_value"),
    ("ok ${FOO+presence_value}", "ok presence_value"),
    ("ok ${BAR+presence_value}", "ok presence_value"),
    ("ok ${BAR:+presence_value}", "ok "),
    ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
    # TestInterpolationExternalInterference
    ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
    ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
    ("-ok ${FOO:-defaultValue}", "-ok first"),
    (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
    (":-ok ${BAR-defaultValue}", ":-ok "),
    (":?ok ${BAR-defaultValue}", ":?ok "),
    (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
    (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
    ("+ok ${BAR-defaultValue}", "+ok "),
    ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
    # TestDefaultsWithNestedExpansion
    ("ok ${UNSET_VAR-$FOO}", "ok first"),
    ("ok ${UNSET_VAR-${FOO}}", "ok first"),
    ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
    ("ok ${BAR:-$FOO}", "ok first"),
    ("ok ${BAR:-${FOO}}", "ok first"),
    ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
    ("ok ${BAR+$FOO}", "ok first"),
    ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
    # TestDefaultsForMandatoryVariables
    ("ok ${FOO:?err}", "ok first"),
    ("ok ${FOO?err}", "ok first"),
    ("ok ${BAR?err}", "ok "),
]

INVALID = ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"]  # TestInvalid

MISSING = [
    # TestMandatoryVariableErrors, TestMandatoryVariableErrorsWithNestedExpansion
    (
        "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
        "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
    ),
    (
        "not ok ${BAR:?Mandatory Variable Empty}",
        "required variable BAR is missing a value: Mandatory Variable Empty",
    ),
    ("not ok ${UNSET_VAR:?}", "required variable UNSET_VAR is missing a value"),
    (
        "not ok ${UNSET_VAR?Mandatory Variable Unset}",
        "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
    ),
    ("not ok ${UNSET_VAR?}", "required variable UNSET_VAR is missing a value"),
    (
        "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
        "required variable UNSET_VAR is missing a value: Mandatory Variable first",
    ),
    (
        "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
        "required variable UNSET_VAR is missing a value: Mandatory Variable first",
    ),
]


@pytest.mark.parametrize(("template", "expected"), SUBSTITUTIONS)
def test_substitutions_match_compose(template: str, expected: str) -> None:
    assert substitute(template, DEFAULTS.get) == expected


@pytest.mark.parametrize("template", INVALID)
def test_invalid_templates_are_errors(template: str) -> None:
    with pytest.raises(InvalidTemplate):
        substitute(template, DEFAULTS.get)


@pytest.mark.parametrize(("template", "message"), MISSING)
def test_required_variables_name_themselves_and_the_reason(template: str, message: str) -> None:
    with pytest.raises(MissingRequired, match=f"^{message}$"):
        substitute(template, DEFAULTS.get)


def test_a_required_value_is_read_lazily() -> None:
    """TestLazyRequiredMessageDoesNotWarn: the message is not interpolated when A is set."""
    read: list[str] = []

    def lookup(name: str) -> str | None:
        read.append(name)
        return "value" if name == "A" else None

    assert substitute("${A?${B}}", lookup) == "value"
    assert read == ["A"]


def test_defaults_nested_too_deep_are_an_error_not_a_crash() -> None:
    deep = "${A:-" * 2000 + "}" * 2000
    with pytest.raises(InvalidTemplate, match="nested deeper than"):
        substitute(deep, DEFAULTS.get)
    assert substitute("${A:-" * 10 + "v" + "}" * 10, DEFAULTS.get) == "v"


def test_many_references_in_one_value_are_read_in_one_pass() -> None:
    """compose-go reinterpolates the rest after each reference; here that is a loop."""
    assert substitute("${FOO-x}-" * 20_000, DEFAULTS.get) == "first-" * 20_000
