"""The where language: every construct, every error, boto3 conditions, and its properties."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbkit.errors import ValidationError, WhereSyntaxError
from ddbkit.expr.expressions import (
    ATTRIBUTE_TYPES,
    COMPARATORS,
    CONDITION_TYPES,
    And,
    Arithmetic,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Contains,
    Exists,
    IfNotExists,
    In,
    ListAppend,
    Not,
    NotExists,
    Operand,
    Or,
    Path,
    Placeholders,
    SetOperand,
    Size,
    UpdateOperand,
    Value,
    debug_assignments,
)
from ddbkit.expr.where import (
    MAX_NESTING,
    as_condition,
    parse_add_clause,
    parse_delete_clause,
    parse_path,
    parse_path_list,
    parse_remove_clause,
    parse_set_clause,
    parse_where,
)


def p(*parts: str | int) -> Path:
    return Path(parts)


def v(value: Any) -> Value:
    return Value(value)


def typed(node: Any) -> Any:
    """A comparable form that, unlike ==, tells True from 1 and 1 from '1'."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = dataclasses.fields(node)
        return (type(node).__name__, tuple(typed(getattr(node, f.name)) for f in fields))
    if isinstance(node, bool):
        return ("bool", node)
    if node is None:
        return ("null",)
    if isinstance(node, (int, Decimal)):
        return ("num", Decimal(node))
    if isinstance(node, (bytes, bytearray)):
        return ("bytes", bytes(node))
    if isinstance(node, (set, frozenset)):
        return ("set", frozenset(typed(m) for m in node))
    if isinstance(node, dict):
        return ("map", tuple((k, typed(x)) for k, x in node.items()))
    if isinstance(node, (list, tuple)):
        return ("seq", tuple(typed(x) for x in node))
    return ("str", node)


# -- constructs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = 1", Compare("=", p("a"), v(1))),
        ("a <> 'x'", Compare("<>", p("a"), v("x"))),
        ("a < 1", Compare("<", p("a"), v(1))),
        ("a <= 1", Compare("<=", p("a"), v(1))),
        ("a > 1", Compare(">", p("a"), v(1))),
        ("a >= 1", Compare(">=", p("a"), v(1))),
        ("3 < age", Compare("<", v(3), p("age"))),
        ("a = b", Compare("=", p("a"), p("b"))),
        ("a BETWEEN 1 AND 5", Between(p("a"), v(1), v(5))),
        ("a between lo and hi", Between(p("a"), p("lo"), p("hi"))),
        ("a IN (1)", In(p("a"), (v(1),))),
        ("a in (1, 'x', b)", In(p("a"), (v(1), v("x"), p("b")))),
        ("attribute_exists(a.b)", Exists(p("a", "b"))),
        ("attribute_not_exists(a)", NotExists(p("a"))),
        ("attribute_type(a, 'BOOL')", AttributeType(p("a"), "BOOL")),
        ("attribute_type(a, 'ss')", AttributeType(p("a"), "SS")),
        ("begins_with(a, 'ab')", BeginsWith(p("a"), v("ab"))),
        ("begins_with(a, b)", BeginsWith(p("a"), p("b"))),
        ("contains(tags, 'x')", Contains(p("tags"), v("x"))),
        ("contains(a, b.c)", Contains(p("a"), p("b", "c"))),
        ("size(a) > 3", Compare(">", Size(p("a")), v(3))),
        ("SIZE(a) >= size(b)", Compare(">=", Size(p("a")), Size(p("b")))),
        ("size(a) BETWEEN 1 AND 3", Between(Size(p("a")), v(1), v(3))),
        ("a IN (size(b), 2)", In(p("a"), (Size(p("b")), v(2)))),
        ("Attribute_Exists(a)", Exists(p("a"))),
        ("a.b[0].c = 1", Compare("=", p("a", "b", 0, "c"), v(1))),
        ("a[0][12] = 1", Compare("=", p("a", 0, 12), v(1))),
        ("a . b [ 1 ] = 1", Compare("=", p("a", "b", 1), v(1))),
        ("a = true", Compare("=", p("a"), v(True))),
        ("a = FALSE", Compare("=", p("a"), v(False))),
        ("a = Null", Compare("=", p("a"), v(None))),
        ("NOT a = 1", Not(Compare("=", p("a"), v(1)))),
        ("not not a = 1", Not(Not(Compare("=", p("a"), v(1))))),
        ("((a = 1))", Compare("=", p("a"), v(1))),
    ],
)
def test_parses_every_construct(text: str, expected: Condition) -> None:
    assert typed(parse_where(text)) == typed(expected)


def test_a_word_before_a_parenthesis_is_a_function_otherwise_a_name() -> None:
    assert parse_where("size > 3") == Compare(">", p("size"), v(3))
    assert parse_where("contains = 1") == Compare("=", p("contains"), v(1))
    assert parse_where("size(size) > 3") == Compare(">", Size(p("size")), v(3))


@pytest.mark.parametrize(
    "name", ["name", "status", "data", "year", "size", "count", "values", "key", "table"]
)
def test_reserved_words_are_plain_names(name: str) -> None:
    condition = parse_where(f"{name} = 'x' AND {name}.{name} > 1")
    ph = Placeholders()
    assert condition.encode(ph) == "#n0 = :v0 AND #n0.#n0 > :v1"
    assert ph.names == {"#n0": name}


def test_keywords_are_names_after_a_dot() -> None:
    assert parse_where("a.in = 1 AND a.and = 2").debug() == "a.`in` = 1 AND a.`and` = 2"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("`first name` = 1", "first name"),
        ("`a.b` = 1", "a.b"),
        ("`it``s` = 1", "it`s"),
        ("```` = 1", "`"),
        ("`and` = 1", "and"),
        ("`2fa` = 1", "2fa"),
        ("`a-b` = 1", "a-b"),
        ("`a[0]` = 1", "a[0]"),
        ("`x` = 1", "x"),
    ],
)
def test_backtick_names_take_any_character(text: str, name: str) -> None:
    assert parse_where(text) == Compare("=", p(name), v(1))


def test_backtick_name_inside_a_path() -> None:
    assert parse_where("a.`b c`[0].`d` = 1") == Compare("=", p("a", "b c", 0, "d"), v(1))


def test_unicode_names_and_values() -> None:
    condition = parse_where("名前 = 'café ☕' AND über.straße <> \"ñ\" AND e\u0301 = '😀'")
    assert condition == And(
        (
            Compare("=", p("名前"), v("café ☕")),
            Compare("<>", p("über", "straße"), v("ñ")),
            Compare("=", p("e\u0301"), v("😀")),
        )
    )
    assert parse_where(condition.debug()) == condition


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\"b'", 'a"b'),
        ('"a\'b"', "a'b"),
        ("'\\\\ \\/ \\b \\f \\n \\r \\t'", "\\ / \b \f \n \r \t"),
        ("'\\u00e9\\u20AC'", "é€"),
        ("'\\ud83d\\ude00'", "😀"),
        ("''", ""),
        ("'line\nbreak'", "line\nbreak"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    assert parse_where(f"a = {literal}") == Compare("=", p("a"), v(value))


def test_a_json_document_is_a_valid_literal() -> None:
    text = '{"k": [1, 2.5, "x\\n", true, null, {"n": -1e3}], "e": {}, "l": []}'
    expected = {
        "k": [1, Decimal("2.5"), "x\n", True, None, {"n": Decimal("-1E+3")}],
        "e": {},
        "l": [],
    }
    assert typed(parse_where(f"m = {text}")) == typed(Compare("=", p("m"), v(expected)))


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("<<'a', 'b'>>", frozenset({"a", "b"})),
        ("<<1, 2.5>>", frozenset({1, Decimal("2.5")})),
        ("<<x'00', X\"ff\">>", frozenset({b"\x00", b"\xff"})),
        ("x'0aFF'", b"\n\xff"),
        ("x''", b""),
        ("[<<1>>, {'a': <<'b'>>}]", [frozenset({1}), {"a": frozenset({"b"})}]),
    ],
)
def test_set_binary_and_nested_literals(literal: str, value: Any) -> None:
    assert typed(parse_where(f"a = {literal}")) == typed(Compare("=", p("a"), v(value)))


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("12345678901234567890123456789012345678", 12345678901234567890123456789012345678),
        ("-12345678901234567890123456789012345678", -12345678901234567890123456789012345678),
        ("1E+100", Decimal("1E+100")),
        ("1e100", Decimal("1E+100")),
        ("-0.5", Decimal("-0.5")),
        ("- 0.5", Decimal("-0.5")),
        ("0.1", Decimal("0.1")),
        ("1.50", Decimal("1.50")),
        ("2.5e-3", Decimal("0.0025")),
        ("007", 7),
        ("-7", -7),
    ],
)
def test_numbers_are_exact(literal: str, value: int | Decimal) -> None:
    parsed = parse_where(f"a = {literal}")
    assert isinstance(parsed, Compare)
    assert isinstance(parsed.right, Value)
    assert type(parsed.right.value) is type(value)
    assert parsed.right.value == value
    assert str(parsed.right.value) == str(value)  # same digits, not just the same number


def test_numbers_are_never_float() -> None:
    parsed = parse_where("a IN (1.5, 1e0, 0.1, -3.25)")
    assert isinstance(parsed, In)
    assert all(isinstance(o, Value) and isinstance(o.value, Decimal) for o in parsed.options)


# -- precedence ---------------------------------------------------------------------------------

A, B, C = (Compare("=", p(name), v(n)) for n, name in enumerate("abc", 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = 1 OR b = 2 AND c = 3", Or((A, And((B, C))))),
        ("a = 1 AND b = 2 OR c = 3", Or((And((A, B)), C))),
        ("(a = 1 OR b = 2) AND c = 3", And((Or((A, B)), C))),
        ("NOT a = 1 AND b = 2", And((Not(A), B))),
        ("NOT (a = 1 AND b = 2)", Not(And((A, B)))),
        ("a = 1 AND b = 2 AND c = 3", And((A, B, C))),
        ("a = 1 or b = 2 or c = 3", Or((A, B, C))),
        ("(a = 1 AND b = 2) AND c = 3", And((And((A, B)), C))),
        ("a = 1 AND NOT b = 2 OR NOT c = 3", Or((And((A, Not(B))), Not(C)))),
        (
            "a BETWEEN 1 AND 2 AND b = 2",
            And((Between(p("a"), v(1), v(2)), B)),
        ),
    ],
)
def test_precedence_not_over_and_over_or(text: str, expected: Condition) -> None:
    assert parse_where(text) == expected


# -- paths and clauses --------------------------------------------------------------------------


def test_parse_path() -> None:
    assert parse_path("a.b[0].`c d`") == p("a", "b", 0, "c d")
    assert parse_path("  status ") == p("status")
    assert parse_path_list("a, b.c[1], `x,y`") == [p("a"), p("b", "c", 1), p("x,y")]


def test_parse_set_clause() -> None:
    text = (
        "age = 31, nick = 'x', n = n + 1, m = m - 1, d = -1, visits = if_not_exists(visits, 0) + 1,"
        " tags = list_append(tags, ['a']), c = b, o = {\"k\": 1}"
    )
    assert parse_set_clause(text) == [
        (p("age"), v(31)),
        (p("nick"), v("x")),
        (p("n"), Arithmetic("+", p("n"), v(1))),
        (p("m"), Arithmetic("-", p("m"), v(1))),
        (p("d"), v(-1)),
        (p("visits"), Arithmetic("+", IfNotExists(p("visits"), v(0)), v(1))),
        (p("tags"), ListAppend(p("tags"), v(["a"]))),
        (p("c"), p("b")),
        (p("o"), v({"k": 1})),
    ]


def test_set_subtracts_a_negative_number() -> None:
    assert parse_set_clause("n = n - -1") == [(p("n"), Arithmetic("-", p("n"), v(-1)))]
    assert parse_set_clause("n = n -1") == [(p("n"), Arithmetic("-", p("n"), v(1)))]


def test_parse_add_delete_remove_clauses() -> None:
    assert typed(parse_add_clause("logins = 1, tags = <<'a'>>, n = -2.5")) == typed(
        [(p("logins"), v(1)), (p("tags"), v(frozenset({"a"}))), (p("n"), v(Decimal("-2.5")))]
    )
    assert parse_delete_clause("tags = <<'a', 'b'>>") == [(p("tags"), v(frozenset({"a", "b"})))]
    assert parse_remove_clause("a, b.c[0]") == [p("a"), p("b", "c", 0)]


# -- errors -------------------------------------------------------------------------------------


def assert_syntax_error(error: WhereSyntaxError, text: str, column: int) -> None:
    lines = str(error).split("\n")
    assert lines[0].startswith(f"{error.what} syntax error at column {column}: ")
    assert lines[1] == "  " + text.replace("\n", " ")
    assert lines[2] == "  " + " " * (column - 1) + "^"
    assert error.column == column
    assert error.position == column - 1


WHERE_ERRORS = [
    ("", 1, "empty where-clause"),
    ("   ", 1, "empty where-clause"),
    ("a =", 4, "expected a value after '='"),
    ("a = AND b = 1", 5, "expected a value after '='"),
    ("a = 'abc", 5, "unclosed string"),
    ('a = "abc\\"', 5, "unclosed string"),
    ("foo(a) = 1", 1, "unknown function 'foo'"),
    ("a = foo(1)", 5, "unknown function 'foo'"),
    ("a = 1)", 6, "unexpected ')'"),
    (")", 1, "unexpected ')'"),
    ("a = 1 AND )", 11, "unexpected ')'"),
    ("a = 1 b = 2", 7, "trailing input"),
    ("a = 1 .", 7, "trailing input"),
    ("a", 2, "expected =, <>, <, <=, >, >=, BETWEEN or IN after 'a'"),
    ("size(a.b) AND", 11, "after 'size(a.b)'"),
    ("(a = 1", 7, "expected ')' to close the '(' at column 1"),
    ("()", 2, "expected a condition after '('"),
    ("NOT", 4, "expected a condition after 'NOT'"),
    ("a = 1 AND", 10, "expected a condition after 'AND'"),
    ("AND a = 1", 1, "expected a condition"),
    ("a == 1", 3, "use = to compare"),
    ("a != 1", 3, "use <> for not-equal"),
    ("a = 1 && b = 2", 7, "use AND"),
    ("a ! 1", 3, "unexpected character '!'"),
    ("a = 1 ; b", 7, "unexpected character ';'"),
    ("`abc = 1", 1, "unclosed backtick name"),
    ("`` = 1", 1, "empty name in backticks"),
    ("2fa = 1", 1, "a name that starts with a digit goes in backticks, like `2fa`"),
    ("a = 1.5x", 8, "unexpected 'x' after a number"),
    ("a = 'x\\q'", 7, "unknown escape '\\q'"),
    ("a = '\\u12'", 6, "\\u needs four hex digits"),
    ("a = '\\ud83d'", 5, "half of a surrogate pair"),
    ("a = x'abc'", 5, "pairs of hex digits"),
    ("a = x'zz'", 5, "pairs of hex digits"),
    ("a < b < c", 7, "comparisons do not chain"),
    ("a BETWEEN 1 OR 2", 13, "expected AND in BETWEEN"),
    ("a IN 1", 6, "expected '(' after IN"),
    ("a IN ()", 7, "expected a value after '('"),
    ("a IN (1 2)", 9, "expected ',' or ')' in the IN list"),
    ("a NOT IN (1)", 3, "NOT goes before the whole condition"),
    ("a IS NULL", 3, "IS is not supported"),
    ("attribute_exists(a) = 1", 21, "trailing input"),
    ("a = attribute_exists(b)", 5, "attribute_exists(...) is a condition"),
    ("attribute_exists()", 18, "attribute_exists takes an attribute path first"),
    ("attribute_exists('a')", 18, "attribute_exists takes an attribute path first"),
    ("attribute_exists(a, b)", 19, "expected ')' to end attribute_exists(...)"),
    ("begins_with(a)", 14, "begins_with takes two arguments"),
    ("attribute_type(a, S)", 19, "the type goes in quotes"),
    ("attribute_type(a, 'X')", 19, "unknown attribute type 'X'"),
    ("attribute_type(a, 'ß')", 19, "unknown attribute type 'ß'"),
    ("size(a)", 8, "expected =, <>, <, <=, >, >=, BETWEEN or IN after 'size(a)'"),
    ("size(1) > 1", 6, "size takes an attribute path first"),
    ("in = 1", 1, "expected a value"),
    ("a.b. = 1", 6, "expected a name after '.'"),
    ("a.0 = 1", 3, "expected a name after '.'"),
    ("a[-1] = 1", 3, "a list index is a whole number"),
    ("a[1.5] = 1", 3, "a list index is a whole number"),
    ("a[1 = 1", 5, "expected ']'"),
    ("a = [1, ]", 9, "expected a value in the list"),
    ("a = [1 2]", 8, "expected ',' or ']' in the list"),
    ("a = {k: 1}", 6, "a map key is a quoted string"),
    ("a = {'k' 1}", 10, "expected ':' after the map key"),
    ("a = {'k': }", 11, "expected a value for the key 'k'"),
    ("a = <<>>", 7, "a set cannot be empty"),
    ("a = <<1, 'x'>>", 5, "a set holds only strings, only numbers or only binary values"),
    ("a = <<[1]>>", 7, "a set holds strings, numbers or binary values"),
    ("a = <<true>>", 7, "a set holds strings, numbers or binary values"),
    ("a = <<1", 8, "expected ',' or '>>' in the set"),
    ("a = 1" + "0" * 5000, 5, "number too long"),
    ("a = 1e9999999999999999999999", 5, "number out of range"),
    ("a = 1 OR\nb =", 13, "expected a value after '='"),
]


@pytest.mark.parametrize(("text", "column", "reason"), WHERE_ERRORS)
def test_syntax_errors_show_column_and_caret(text: str, column: int, reason: str) -> None:
    with pytest.raises(WhereSyntaxError) as caught:
        parse_where(text)
    assert reason in caught.value.reason
    assert_syntax_error(caught.value, text, column)


def test_in_refuses_more_than_100_values() -> None:
    ok = parse_where("a IN (" + ", ".join(str(n) for n in range(100)) + ")")
    assert isinstance(ok, In)
    assert len(ok.options) == 100
    text = "a IN (" + ", ".join(str(n) for n in range(101)) + ")"
    with pytest.raises(WhereSyntaxError) as caught:
        parse_where(text)
    assert "at most 100 values" in caught.value.reason
    assert_syntax_error(caught.value, text, text.index(", 100)") + 3)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_where, "(" * 1000 + "a = 1" + ")" * 1000),
        (parse_where, "NOT " * 1000 + "a = 1"),
        (parse_where, "a = " + "[" * 1000),
        (parse_where, "a = " + "{'k': " * 1000),
        (parse_set_clause, "a = " + "if_not_exists(a, " * 1000),
    ],
)
def test_deep_nesting_is_a_syntax_error_not_a_crash(parse: Any, text: str) -> None:
    with pytest.raises(WhereSyntaxError, match="nested too deeply"):
        parse(text)


def test_nesting_up_to_the_limit_parses() -> None:
    depth = MAX_NESTING
    assert parse_where("(" * depth + "a = 1" + ")" * depth) == parse_where("a = 1")
    nested = parse_where("a = " + "[" * (depth - 1) + "]" * (depth - 1))
    assert isinstance(nested, Compare)


@pytest.mark.parametrize(
    ("parse", "text", "column", "reason"),
    [
        (parse_path, "", 1, "empty path"),
        (parse_path, "a b", 3, "trailing input"),
        (parse_path, "1", 1, "expected an attribute path"),
        (parse_path, "and", 1, "'and' is a keyword: write `and`"),
        (parse_path_list, "a,", 3, "expected an attribute path after ','"),
        (parse_set_clause, "", 1, "empty SET clause"),
        (parse_set_clause, "a", 2, "expected '=' after 'a'"),
        (parse_set_clause, "a = ", 5, "expected a value after '='"),
        (parse_set_clause, "a = 1 b = 2", 7, "separate assignments with ','"),
        (parse_set_clause, "a = b + c - d", 11, "one + or - per value"),
        (parse_set_clause, "a = size(b)", 5, "unknown function 'size' in SET"),
        (parse_set_clause, "a = if_not_exists(1, 2)", 19, "if_not_exists takes an attribute path"),
        (parse_set_clause, "a = list_append(b)", 18, "list_append takes two arguments"),
        (parse_set_clause, "1 = a", 1, "expected an attribute path"),
        (parse_add_clause, "a = 'x'", 5, "ADD takes a number or a set"),
        (parse_add_clause, "a = b", 5, "ADD takes a number or a set: expected a value"),
        (parse_add_clause, "a 1", 3, "expected '=' after 'a'"),
        (parse_delete_clause, "a = 1", 5, "DELETE takes a set"),
        (parse_remove_clause, "a, , b", 4, "expected an attribute path after ','"),
        (parse_remove_clause, "a = 1", 3, "trailing input"),
    ],
)
def test_clause_and_path_errors(parse: Any, text: str, column: int, reason: str) -> None:
    with pytest.raises(WhereSyntaxError) as caught:
        parse(text)
    assert reason in caught.value.reason
    assert_syntax_error(caught.value, text, column)


def test_not_a_string_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="is a string, not int"):
        parse_where(3)  # type: ignore[arg-type]


# -- as_condition and boto3 ---------------------------------------------------------------------


def test_as_condition_accepts_text_nodes_and_none() -> None:
    assert as_condition(None) is None
    assert as_condition("a = 1") == Compare("=", p("a"), v(1))
    node = Exists(p("a"))
    assert as_condition(node) is node
    with pytest.raises(ValidationError, match="not int"):
        as_condition(42)


BOTO3_CASES: list[tuple[ConditionBase, str]] = [
    (Key("pk").eq("x"), "pk = 'x'"),
    (Key("n").lt(1), "n < 1"),
    (Key("n").lte(1), "n <= 1"),
    (Key("n").gt(1), "n > 1"),
    (Key("n").gte(Decimal("1.5")), "n >= 1.5"),
    (Key("sk").begins_with("ab"), "begins_with(sk, 'ab')"),
    (Key("sk").between(1, 9), "sk BETWEEN 1 AND 9"),
    (Key("pk").eq("x") & Key("sk").begins_with("a"), "pk = 'x' AND begins_with(sk, 'a')"),
    (Attr("a").eq(None), "a = null"),
    (Attr("a").ne(True), "a <> true"),
    (Attr("a").lt(b"\x00"), "a < x'00'"),
    (Attr("a").lte(1), "a <= 1"),
    (Attr("a").gt(1), "a > 1"),
    (Attr("a").gte(1), "a >= 1"),
    (Attr("a").eq(Attr("b")), "a = b"),
    (Attr("a").is_in([1, "x"]), "a IN (1, 'x')"),
    (Attr("a").between(1, 2), "a BETWEEN 1 AND 2"),
    (Attr("a").begins_with("x"), "begins_with(a, 'x')"),
    (Attr("a").contains("x"), "contains(a, 'x')"),
    (Attr("a").size().gt(3), "size(a) > 3"),
    (Attr("a").size().between(1, 3), "size(a) BETWEEN 1 AND 3"),
    (Attr("a").size().eq(Attr("b").size()), "size(a) = size(b)"),
    (Attr("a").attribute_type("N"), "attribute_type(a, 'N')"),
    (Attr("a").exists(), "attribute_exists(a)"),
    (Attr("a").not_exists(), "attribute_not_exists(a)"),
    (Attr("a").eq(1) | Attr("b").eq(2), "a = 1 OR b = 2"),
    (~Attr("a").eq(1), "NOT a = 1"),
    (Attr("a").eq(1) & Attr("b").eq(2) & Attr("c").eq(3), "a = 1 AND b = 2 AND c = 3"),
    (Attr("a").eq(1) | Attr("b").eq(2) & Attr("c").eq(3), "a = 1 OR b = 2 AND c = 3"),
    (~(Attr("a").eq(1) | Attr("b").eq(2)), "NOT (a = 1 OR b = 2)"),
    (Attr("a.b[1].c").eq(1), "a.b[1].c = 1"),
    (Attr("status").eq([1, {"k": "v"}]), "status = [1, {'k': 'v'}]"),
    (Attr("tags").contains({"a"}), "contains(tags, <<'a'>>)"),
]


@pytest.mark.parametrize(("condition", "text"), BOTO3_CASES)
def test_boto3_condition_is_the_same_as_text(condition: ConditionBase, text: str) -> None:
    assert typed(as_condition(condition)) == typed(parse_where(text))


def operator_of(boto3_class: Any) -> str:
    return str(boto3_class.expression_operator)


def test_every_boto3_condition_class_is_covered() -> None:
    from boto3.dynamodb import conditions

    classes = {
        c
        for c in vars(conditions).values()
        if isinstance(c, type) and issubclass(c, ConditionBase) and operator_of(c)
    }
    covered = {type(c) for c, _ in BOTO3_CASES}
    for condition, _ in BOTO3_CASES:  # operands and inner conditions count too
        covered |= {type(x) for x in condition.get_expression()["values"]}
    assert classes <= covered


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (Attr("a[x]").eq(1), "is not a path"),
        (Attr("a..b").eq(1), "is not a path"),
        (Attr(".a").eq(1), "is not a path"),
        (Attr("a.").eq(1), "is not a path"),
        (Attr("[0]").eq(1), "is not a path"),
        (Attr("").eq(1), "is not a path"),
        (Attr("a").size(), "needs a comparison"),
        (Attr("a").is_in("abc"), "takes a list of values"),
        (Attr("a").eq(Attr("b").exists()), "is not a value"),
        (Attr("a").attribute_type("X"), "unknown attribute type"),
        (Attr("a").is_in([]), "IN needs at least one value"),
    ],
)
def test_boto3_conditions_ddbkit_cannot_use(condition: ConditionBase, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        as_condition(condition)


# -- properties ---------------------------------------------------------------------------------

NAMES = st.one_of(
    st.sampled_from(["a", "name", "size", "and", "IN", "True", "x", "X", "`", "a b", "a.b", "é"]),
    st.text(min_size=1, max_size=8),
)
PATHS = st.builds(
    lambda first, rest: Path((first, *rest)),
    NAMES,
    st.lists(st.one_of(NAMES, st.integers(0, 10**6)), max_size=3),
)
SET_VALUES = st.one_of(
    st.frozensets(st.text(max_size=5), min_size=1, max_size=3),
    st.frozensets(st.integers(-(10**30), 10**30), min_size=1, max_size=3),
    st.frozensets(st.binary(max_size=4), min_size=1, max_size=3),
)


def literal_values(*, storable: bool) -> st.SearchStrategy[Any]:
    """Values the where language can write; ``storable`` ones DynamoDB can also store."""
    if storable:
        decimals = st.decimals(
            min_value=Decimal("-1e20"), max_value=Decimal("1e20"), places=6, allow_nan=False
        )
    else:
        decimals = st.decimals(allow_nan=False, allow_infinity=False)
    scalars = st.one_of(
        st.text(max_size=8),
        st.integers(-(10**40), 10**40) if not storable else st.integers(-(10**30), 10**30),
        decimals,
        st.booleans(),
        st.none(),
        st.binary(max_size=6),
        SET_VALUES,
    )
    keys = st.text(min_size=1 if storable else 0, max_size=5)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=6,
    )


def conditions(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Condition]:
    operands: st.SearchStrategy[Operand] = st.one_of(PATHS, values.map(Value), PATHS.map(Size))
    leaves: st.SearchStrategy[Condition] = st.one_of(
        st.builds(Compare, st.sampled_from(sorted(COMPARATORS)), operands, operands),
        st.builds(Between, operands, operands, operands),
        st.builds(In, operands, st.lists(operands, min_size=1, max_size=4).map(tuple)),
        st.builds(BeginsWith, PATHS, operands),
        st.builds(Contains, PATHS, operands),
        st.builds(Exists, PATHS),
        st.builds(NotExists, PATHS),
        st.builds(AttributeType, PATHS, st.sampled_from(ATTRIBUTE_TYPES)),
    )

    def grow(inner: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
        many = st.lists(inner, min_size=2, max_size=3).map(tuple)
        return st.one_of(many.map(And), many.map(Or), inner.map(Not))

    return st.recursive(leaves, grow, max_leaves=8)


def set_operands(values: st.SearchStrategy[Any]) -> st.SearchStrategy[SetOperand]:
    base: st.SearchStrategy[SetOperand] = st.one_of(PATHS, values.map(Value))
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.builds(IfNotExists, PATHS, inner), st.builds(ListAppend, inner, inner)
        ),
        max_leaves=4,
    )


def update_operands(values: st.SearchStrategy[Any]) -> st.SearchStrategy[UpdateOperand]:
    operands = set_operands(values)
    arithmetic = st.builds(Arithmetic, st.sampled_from(["+", "-"]), operands, operands)
    return st.one_of(operands, arithmetic)


@settings(max_examples=400)
@given(conditions(literal_values(storable=False)))
def test_debug_parses_back_to_the_same_tree(condition: Condition) -> None:
    text = condition.debug()
    assert typed(parse_where(text)) == typed(condition)


@settings(max_examples=200)
@given(st.lists(st.tuples(PATHS, update_operands(literal_values(storable=False))), min_size=1))
def test_set_clause_debug_parses_back(pairs: list[tuple[Path, UpdateOperand]]) -> None:
    assert typed(parse_set_clause(debug_assignments(pairs))) == typed(pairs)


@given(PATHS)
def test_path_debug_parses_back(path: Path) -> None:
    assert parse_path(path.debug()) == path


TOKENS = [
    "a", "b.c", "x", "`n m`", "`", "'s'", '"d"', "'", '"', "\\", "1", "0", "-2.5e3", "1e", "x'00'",
    "true", "null", "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "(", ")", "[", "]", "[0]", "{", "}",
    "<<", ">>", ",", ".", ":", "=", "==", "<>", "<", "<=", ">", ">=", "+", "-", "!", "size",
    "size(", "attribute_exists(", "attribute_type(", "begins_with(", "contains(", "if_not_exists(",
    "list_append(", "foo(", "'S'", "é", " ", "\n",
]  # fmt: skip
SOUP = st.lists(st.sampled_from(TOKENS), max_size=14).flatmap(
    lambda parts: st.sampled_from([" ".join(parts), "".join(parts)])
)
PARSERS: list[Callable[[str], Any]] = [
    parse_where,
    parse_path,
    parse_path_list,
    parse_set_clause,
    parse_add_clause,
    parse_delete_clause,
    parse_remove_clause,
]


def check_only_our_errors(text: str) -> None:
    for parse in PARSERS:
        error: ValidationError | None = None
        try:
            parsed = parse(text)
        except ValidationError as caught:  # WhereSyntaxError is a ValidationError
            error = caught
        if isinstance(error, WhereSyntaxError):
            assert 0 <= error.position <= len(text)
        if error is not None or parse is not parse_where:
            continue
        # Whatever parses encodes (or refuses a value), and its debug text parses back.
        assert isinstance(parsed, CONDITION_TYPES)
        assert typed(parse_where(parsed.debug())) == typed(parsed)
        with contextlib.suppress(ValidationError):
            parsed.encode(Placeholders())


@settings(max_examples=500)
@given(st.text())
def test_any_text_raises_only_syntax_or_validation_errors(text: str) -> None:
    check_only_our_errors(text)


@settings(max_examples=1000)
@given(SOUP)
def test_token_soup_raises_only_syntax_or_validation_errors(text: str) -> None:
    check_only_our_errors(text)


@st.composite
def near_valid_text(draw: st.DrawFn) -> str:
    """A valid where-clause with a slice cut out or a token pushed in: it reaches deep rules."""
    text = draw(conditions(literal_values(storable=False))).debug()
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 4)))
    middle = draw(st.sampled_from(["", *TOKENS]))
    return text[:start] + middle + text[end:]


@settings(max_examples=1000)
@given(near_valid_text())
def test_near_valid_text_raises_only_syntax_or_validation_errors(text: str) -> None:
    check_only_our_errors(text)


ENCODED = re.compile(
    r"(?:\s+|#n\d+|:v\d+|\[\d+\]|<>|<=|>=|[=<>(),.+-]"
    r"|\b(?:AND|OR|NOT|BETWEEN|IN|SET|REMOVE|ADD|DELETE|size|attribute_exists"
    r"|attribute_not_exists|attribute_type|begins_with|contains|if_not_exists|list_append)\b)*"
)


def assert_only_placeholders(encoded: str, ph: Placeholders) -> None:
    assert ENCODED.fullmatch(encoded), encoded
    # Exactly the placeholders used: DynamoDB refuses unused ones.
    assert set(re.findall(r"#n\d+", encoded)) == set(ph.names)
    assert set(re.findall(r":v\d+", encoded)) == set(ph.values)


@settings(max_examples=300)
@given(conditions(literal_values(storable=True)))
def test_encode_holds_no_user_text(condition: Condition) -> None:
    ph = Placeholders()
    assert_only_placeholders(condition.encode(ph), ph)
