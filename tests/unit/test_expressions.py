"""Expression nodes, the placeholder allocator, projections and update expressions."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder, Key
from hypothesis import given, settings

from ddbkit.errors import InvalidValueError, ValidationError, WhereSyntaxError
from ddbkit.expr.builders import build_update, encode_projection, encode_update
from ddbkit.expr.expressions import (
    And,
    Arithmetic,
    AttributeType,
    Compare,
    Condition,
    Exists,
    IfNotExists,
    In,
    ListAppend,
    Not,
    Or,
    Path,
    Placeholders,
    Size,
    Update,
    Value,
    and_all,
    conjuncts,
    paths_in,
    render_name,
    render_value,
)
from ddbkit.expr.where import (
    as_condition,
    parse_add_clause,
    parse_delete_clause,
    parse_remove_clause,
    parse_set_clause,
    parse_where,
)
from ddbkit.values.serialize import from_attribute
from tests.unit.test_where import (
    BOTO3_CASES,
    assert_only_placeholders,
    conditions,
    literal_values,
    typed,
)


def p(*parts: str | int) -> Path:
    return Path(parts)


# -- placeholders -------------------------------------------------------------------------------


def test_numbering_continues_across_the_expressions_of_one_request() -> None:
    ph = Placeholders()
    key = parse_where("pk = 'x' AND sk > 1").encode(ph)
    filter_ = parse_where("status = 'x' AND pk <> 2 AND n = 1.0").encode(ph)
    projection = encode_projection(["pk", "status", "a.b"], ph)
    assert key == "#n0 = :v0 AND #n1 > :v1"
    assert filter_ == "#n2 = :v0 AND #n0 <> :v2 AND #n3 = :v1"  # 1.0 and 1 are one number
    assert projection == "#n0, #n2, #n4.#n5"
    assert ph.names == {
        "#n0": "pk",
        "#n1": "sk",
        "#n2": "status",
        "#n3": "n",
        "#n4": "a",
        "#n5": "b",
    }
    assert ph.values == {":v0": {"S": "x"}, ":v1": {"N": "1"}, ":v2": {"N": "2"}}


def test_equal_wire_values_share_a_placeholder_and_different_types_do_not() -> None:
    ph = Placeholders()
    assert ph.value(1) == ph.value(Decimal("1.00")) == ph.value(1.0) == ":v0"
    assert ph.value("1") == ":v1"
    assert ph.value(True) == ":v2"
    assert ph.value({"b", "a"}) == ph.value(frozenset({"a", "b"})) == ":v3"
    assert ph.value([1, 2]) == ph.value((1, 2)) == ":v4"
    assert ph.value([2, 1]) == ":v5"
    assert ph.value({"k": [1]}) == ph.value({"k": (1,)}) == ":v6"
    assert ph.value(b"1") == ":v7"
    assert ph.value(None) == ":v8"


def test_names_are_deduplicated_and_the_maps_are_copies() -> None:
    ph = Placeholders()
    assert ph.path(p("a", "b", 0, "a")) == "#n0.#n1[0].#n0"
    ph.names["#n9"] = "x"
    ph.values[":v9"] = {"S": "x"}
    assert ph.names == {"#n0": "a", "#n1": "b"}
    assert ph.values == {}


def test_request_params_leave_out_empty_maps() -> None:
    ph = Placeholders()
    assert ph.request_params() == {}
    Exists(p("a")).encode(ph)
    assert ph.request_params() == {"ExpressionAttributeNames": {"#n0": "a"}}
    ph.value(1)
    assert ph.request_params() == {
        "ExpressionAttributeNames": {"#n0": "a"},
        "ExpressionAttributeValues": {":v0": {"N": "1"}},
    }
    only_values = Placeholders()
    only_values.value("x")
    assert only_values.request_params() == {"ExpressionAttributeValues": {":v0": {"S": "x"}}}


def test_a_value_dynamodb_cannot_store_names_its_attribute() -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_where("a.b[0] = 1e200").encode(Placeholders())
    assert caught.value.path == "a.b[0]"
    with pytest.raises(InvalidValueError, match="'tags'"):
        Compare("=", p("tags"), Value(set())).encode(Placeholders())
    with pytest.raises(InvalidValueError, match="'n'"):
        Compare("<", Value(float("nan")), p("n")).encode(Placeholders())


# -- condition encoding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("a = 1 OR b = 2 AND c = 3", "#n0 = :v0 OR #n1 = :v1 AND #n2 = :v2"),
        ("(a = 1 OR b = 2) AND c = 3", "(#n0 = :v0 OR #n1 = :v1) AND #n2 = :v2"),
        ("NOT (a = 1 AND b = 2)", "NOT (#n0 = :v0 AND #n1 = :v1)"),
        ("NOT a = 1", "NOT #n0 = :v0"),
        ("(a = 1 AND b = 2) AND c = 3", "(#n0 = :v0 AND #n1 = :v1) AND #n2 = :v2"),
        ("((a = 1 OR b = 2) OR c = 3) AND d = 4",
         "((#n0 = :v0 OR #n1 = :v1) OR #n2 = :v2) AND #n3 = :v3"),
        ("a BETWEEN 1 AND b", "#n0 BETWEEN :v0 AND #n1"),
        ("a IN (1, 'x', 1)", "#n0 IN (:v0, :v1, :v0)"),
        ("size(a) > size(b)", "size(#n0) > size(#n1)"),
        ("attribute_type(a, 'N')", "attribute_type(#n0, :v0)"),
        ("begins_with(a, 'x') AND contains(b, 1)", "begins_with(#n0, :v0) AND contains(#n1, :v1)"),
        ("attribute_exists(a) OR attribute_not_exists(b)",
         "attribute_exists(#n0) OR attribute_not_exists(#n1)"),
    ],
)  # fmt: skip
def test_condition_encoding(text: str, encoded: str) -> None:
    assert parse_where(text).encode(Placeholders()) == encoded


def test_attribute_type_sends_the_type_as_a_value() -> None:
    ph = Placeholders()
    AttributeType(p("a"), "BOOL").encode(ph)
    assert ph.values == {":v0": {"S": "BOOL"}}


def resolve(encoded: str, ph: Placeholders) -> str:
    """Placeholders replaced by where-language names and literals: what the request means."""
    names = ph.names
    values = ph.values
    text = re.sub(r"#n\d+", lambda m: render_name(names[m.group()]), encoded)
    return re.sub(r":v\d+", lambda m: render_value(from_attribute(values[m.group()])), text)


@settings(max_examples=300)
@given(conditions(literal_values(storable=True)))
def test_encode_means_what_debug_says(condition: Condition) -> None:
    ph = Placeholders()
    encoded = condition.encode(ph)
    assert_only_placeholders(encoded, ph)
    assert typed(parse_where(resolve(encoded, ph))) == typed(condition)


# -- boto3's own builder ------------------------------------------------------------------------


def flat(condition: Condition) -> Condition:
    """Nested ANDs (ORs) merged: boto3 writes a & b & c as ((a AND b) AND c)."""
    if isinstance(condition, (And, Or)):
        kind = type(condition)
        items: list[Condition] = []
        for item in (flat(i) for i in condition.items):
            items.extend(item.items if isinstance(item, kind) else [item])
        return kind(tuple(items))
    if isinstance(condition, Not):
        return Not(flat(condition.item))
    return condition


def boto3_meaning(condition: ConditionBase) -> Condition:
    built = ConditionExpressionBuilder().build_expression(condition)
    names = built.attribute_name_placeholders
    values = built.attribute_value_placeholders
    text = re.sub(r"#n\d+", lambda m: render_name(names[m.group()]), built.condition_expression)
    text = re.sub(r":v\d+", lambda m: render_value(values[m.group()]), text)
    return flat(parse_where(text))


@pytest.mark.parametrize(("condition", "text"), BOTO3_CASES)
def test_as_condition_means_what_boto3s_builder_means(condition: ConditionBase, text: str) -> None:
    converted = as_condition(condition)
    assert converted is not None
    assert typed(flat(converted)) == typed(boto3_meaning(condition))
    ph = Placeholders()
    assert typed(flat(parse_where(resolve(converted.encode(ph), ph)))) == typed(
        boto3_meaning(condition)
    )


def test_boto3_path_rules_match_ours() -> None:
    ph = Placeholders()
    assert as_condition(Key("a.b[1][2].c").eq(1)).encode(ph) == "#n0.#n1[1][2].#n2 = :v0"  # type: ignore[union-attr]
    built = ConditionExpressionBuilder().build_expression(Key("a.b[1][2].c").eq(1))
    assert built.condition_expression == "#n0.#n1[1][2].#n2 = :v0"
    assert ph.names == built.attribute_name_placeholders
    combined = Attr("x").eq(1) & Attr("y").eq(1)
    assert as_condition(combined).encode(Placeholders()) == "#n0 = :v0 AND #n1 = :v0"  # type: ignore[union-attr]


# -- nodes and helpers --------------------------------------------------------------------------

A, B, C = (Compare("=", p(name), Value(1)) for name in "abc")


def test_conjuncts_flattens_nested_ands_only() -> None:
    assert conjuncts(And((A, And((B, C))))) == [A, B, C]
    assert conjuncts(Or((A, B))) == [Or((A, B))]
    assert conjuncts(A) == [A]
    assert conjuncts(Not(And((A, B)))) == [Not(And((A, B)))]


def test_and_all() -> None:
    assert and_all([]) is None
    assert and_all([A]) == A
    assert and_all([A, B]) == And((A, B))
    assert and_all([And((A, B)), C]) == And((A, B, C))


def test_paths_in_finds_every_path() -> None:
    condition = parse_where(
        "a = b.c[0] AND (size(d) > 1 OR NOT e IN (f, 1)) AND x BETWEEN g AND 3"
        " AND begins_with(h, i) AND contains(j, k) AND attribute_type(l, 'S')"
        " AND attribute_exists(m) AND attribute_not_exists(n)"
    )
    assert paths_in(condition) == {p(name) for name in "adefxghijklmn"} | {p("b", "c", 0)}
    assert paths_in(Compare("=", Value(1), Value(2))) == set()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Path(()), "starts with an attribute name"),
        (lambda: Path((0, "a")), "starts with an attribute name"),
        (lambda: Path(("a", "")), "cannot be empty"),
        (lambda: Path(("a", -1)), "cannot be negative"),
        (lambda: Path(("a", True)), "names and list indexes"),
        (lambda: Path(("a", 1.5)), "names and list indexes"),  # type: ignore[arg-type]
        (lambda: Compare("==", p("a"), Value(1)), "unknown comparison"),
        (lambda: In(p("a"), ()), "at least one value"),
        (lambda: In(p("a"), tuple(Value(n) for n in range(101))), "at most 100 values"),
        (lambda: And((A,)), "AND needs at least two"),
        (lambda: Or(()), "OR needs at least two"),
        (lambda: AttributeType(p("a"), "s"), "unknown attribute type"),
        (lambda: Arithmetic("*", p("a"), Value(1)), "+ or -"),
    ],
)
def test_nodes_refuse_what_dynamodb_would(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        build()


def test_debug_writes_odd_names_in_backticks_and_values_exactly() -> None:
    condition = And(
        (
            Compare("=", p("first name", "it`s", 2), Value("a'b\\\n")),
            Compare("<", p("and"), Value(Decimal("1E+100"))),
            Compare(">", p("size"), Value({"k": [b"\x01", None, True, frozenset({3, 1, 2})]})),
        )
    )
    assert condition.debug() == (
        "`first name`.`it``s`[2] = 'a\\'b\\\\\\n' AND `and` < 1E+100"
        " AND size > {'k': [x'01', null, true, <<1, 2, 3>>]}"
    )
    assert typed(parse_where(condition.debug())) == typed(condition)


def test_debug_escapes_invisible_characters() -> None:
    value = Compare("=", p("a"), Value("\x00\u200b\u2028\U000e0001é"))
    assert value.debug() == "a = '\\u0000\\u200b\\u2028\\udb40\\udc01é'"
    assert typed(parse_where(value.debug())) == typed(value)


# -- projections --------------------------------------------------------------------------------


def test_projection_from_strings_paths_and_a_comma_list() -> None:
    ph = Placeholders()
    assert encode_projection(["a", p("b", 0), "`c d`.e", "a"], ph) == "#n0, #n1[0], #n2.#n3"
    assert encode_projection("name, status, a", ph) == "#n4, #n5, #n0"
    assert ph.names == {
        "#n0": "a",
        "#n1": "b",
        "#n2": "c d",
        "#n3": "e",
        "#n4": "name",
        "#n5": "status",
    }
    assert ph.values == {}


@pytest.mark.parametrize(
    ("paths", "error", "message"),
    [
        ([], ValidationError, "at least one attribute"),
        (["a", "a.b"], ValidationError, "overlap"),
        (["a[0]", "a"], ValidationError, "overlap"),
        (["a b"], WhereSyntaxError, "trailing input"),
        ([3], ValidationError, "not int"),
        ("a,,b", WhereSyntaxError, "expected an attribute path"),
    ],
)
def test_projection_errors(paths: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        encode_projection(paths, Placeholders())


# -- update expressions -------------------------------------------------------------------------


def test_update_from_strings() -> None:
    ph = Placeholders()
    expression = encode_update(
        set=(
            "age = 31, nick = 'x', n = n + 1, visits = if_not_exists(visits, 0) + 1,"
            " tags = list_append(tags, ['a'])"
        ),
        add="logins = 1, roles = <<'admin'>>",
        remove="old, a.b[0]",
        delete="ds = <<'x'>>",
        ph=ph,
    )
    assert expression == (
        "SET #n0 = :v0, #n1 = :v1, #n2 = #n2 + :v2, #n3 = if_not_exists(#n3, :v3) + :v2,"
        " #n4 = list_append(#n4, :v4)"
        " REMOVE #n5, #n6.#n7[0]"
        " ADD #n8 :v2, #n9 :v5"
        " DELETE #n10 :v6"
    )
    assert ph.values == {
        ":v0": {"N": "31"},
        ":v1": {"S": "x"},
        ":v2": {"N": "1"},
        ":v3": {"N": "0"},
        ":v4": {"L": [{"S": "a"}]},
        ":v5": {"SS": ["admin"]},
        ":v6": {"SS": ["x"]},
    }
    assert list(ph.names.values()) == [
        "age", "nick", "n", "visits", "tags", "old", "a", "b", "logins", "roles", "ds",
    ]  # fmt: skip


def test_update_from_mappings_and_nodes() -> None:
    ph = Placeholders()
    changes: dict[str | Path, Any] = {
        "a.b[0]": 1.5,
        p("c d"): {"k": None},
        "n": Arithmetic("-", p("n"), Value(1)),
        "v": IfNotExists(p("v"), Value(0)),
        "l": ListAppend(Value([0]), p("l")),
        "copy": p("orig"),
    }
    expression = encode_update(
        set=changes,
        add={"logins": 1, "tags": {"x"}},
        remove=["old", p("gone", 1)],
        delete={"ds": frozenset({1, 2})},
        ph=ph,
    )
    assert expression == (
        "SET #n0.#n1[0] = :v0, #n2 = :v1, #n3 = #n3 - :v2, #n4 = if_not_exists(#n4, :v3),"
        " #n5 = list_append(:v4, #n5), #n6 = #n7"
        " REMOVE #n8, #n9[1]"
        " ADD #n10 :v2, #n11 :v5"
        " DELETE #n12 :v6"
    )
    assert ph.values[":v0"] == {"N": "1.5"}
    assert ph.values[":v6"] == {"NS": ["1", "2"]}


def test_update_continues_the_numbering_of_its_condition() -> None:
    ph = Placeholders()
    update = encode_update(set="status = 'done', n = n + 1", ph=ph)
    condition = parse_where("status = 'open' AND n < 1").encode(ph)
    assert update == "SET #n0 = :v0, #n1 = #n1 + :v1"
    assert condition == "#n0 = :v2 AND #n1 < :v1"
    assert_only_placeholders(f"{update} {condition}", ph)


def test_update_debug_clauses_parse_back() -> None:
    update = build_update(
        set="a = 1, n = n - -1, v = if_not_exists(v, 'x') + 1, `odd name` = [1, {'k': null}]",
        add="logins = 1, tags = <<'a'>>",
        remove="x, y[2]",
        delete="s = <<1, 2>>",
    )
    text = update.debug()
    assert text == (
        "SET a = 1, n = n - -1, v = if_not_exists(v, 'x') + 1, `odd name` = [1, {'k': null}]"
        " REMOVE x, y[2] ADD logins = 1, tags = <<'a'>> DELETE s = <<1, 2>>"
    )
    set_text, rest = text[len("SET ") :].split(" REMOVE ")
    remove_text, rest = rest.split(" ADD ")
    add_text, delete_text = rest.split(" DELETE ")
    assert parse_set_clause(set_text) == list(update.set)
    assert parse_remove_clause(remove_text) == list(update.remove)
    assert parse_add_clause(add_text) == list(update.add)
    assert parse_delete_clause(delete_text) == list(update.delete)


@pytest.mark.parametrize(
    ("clauses", "error", "message"),
    [
        ({}, ValidationError, "nothing to update: give set, add, remove or delete"),
        ({"set": {}, "remove": []}, ValidationError, "nothing to update"),
        ({"set": "a = 1", "remove": "a"}, ValidationError, "path a appears in both SET and REMOVE"),
        ({"set": {"a": 1}, "add": {"a": 1}}, ValidationError, "both SET and ADD"),
        ({"add": "a = 1", "delete": "a = <<1>>"}, ValidationError, "both ADD and DELETE"),
        ({"set": "a = 1", "remove": "a.b"}, ValidationError, "a (SET) and a.b (REMOVE) overlap"),
        ({"set": "a[0] = 1", "remove": "a"}, ValidationError, "overlap"),
        ({"set": "a = 1, a = 2"}, ValidationError, "path a appears twice in SET"),
        ({"remove": ["a", "a"]}, ValidationError, "appears twice in REMOVE"),
        ({"add": {"a": "x"}}, ValidationError, "ADD takes a number or a set, not str"),
        ({"add": {"a": True}}, ValidationError, "ADD takes a number or a set, not bool"),
        ({"delete": {"a": 1}}, ValidationError, "DELETE takes a set"),
        ({"delete": {"a": [1]}}, ValidationError, "DELETE takes a set"),
        ({"set": "a ="}, WhereSyntaxError, "expected a value after '='"),
        ({"set": "  "}, WhereSyntaxError, "empty SET clause"),
        ({"set": ["a"]}, ValidationError, "a dict of path -> value or a string"),
        ({"set": {"a b": 1}}, WhereSyntaxError, "trailing input"),
        ({"remove": [1]}, ValidationError, "not int"),
    ],
)
def test_update_errors(clauses: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        encode_update(ph=Placeholders(), **clauses)


def test_update_refuses_an_unstorable_value_by_path() -> None:
    with pytest.raises(InvalidValueError) as caught:
        encode_update(set={"a.b": float("inf")}, ph=Placeholders())
    assert caught.value.path == "a.b"


def test_paths_overlap() -> None:
    assert p("a").overlaps(p("a", "b"))
    assert p("a", 0).overlaps(p("a"))
    assert p("a").overlaps(p("a"))
    assert not p("a", "b").overlaps(p("a", "c"))
    assert not p("a", 0).overlaps(p("a", 1))
    assert not p("ab").overlaps(p("a"))


def test_update_nodes_are_plain_data() -> None:
    update = Update(set=((p("a"), Value(1)),), remove=(p("b"),))
    assert update.targets() == [("SET", p("a")), ("REMOVE", p("b"))]
    assert update.encode(Placeholders()) == "SET #n0 = :v0 REMOVE #n1"
    assert Size(p("a")).debug() == "size(a)"
