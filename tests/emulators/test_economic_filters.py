"""The filter grammar: parsing, escapes, evaluation semantics, sorting, round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerlink.emulators.economic.filters import (
    MAX_IN_VALUES,
    WILDCARD,
    BoolOp,
    Expression,
    FieldKind,
    FilterError,
    InList,
    Like,
    Predicate,
    escape,
    evaluate,
    format_expression,
    parse_filter,
    parse_sort,
    sort_records,
)

KINDS = {
    "name": FieldKind.STRING,
    "city": FieldKind.STRING,
    "age": FieldKind.INTEGER,
    "amount": FieldKind.NUMBER,
    "date": FieldKind.DATE,
    "barred": FieldKind.BOOLEAN,
    "customer.customerNumber": FieldKind.INTEGER,
}
RECORDS = [
    {"name": "Joe", "city": "Newport", "age": 35, "amount": Decimal("10.50"), "date": "2026-01-05"},
    {"name": "joe", "city": "Aarhus", "age": 50, "amount": Decimal("3"), "date": "2026-02-01"},
    {"name": "Ann (CEO)", "city": "Port Said", "age": 28, "date": "2025-12-31", "barred": True},
    {"name": "Bo*", "age": 41, "customer": {"customerNumber": 7}},
]


def names(text: str) -> list[str]:
    expression = parse_filter(text)
    return [str(r["name"]) for r in RECORDS if evaluate(expression, r, KINDS)]


def test_documented_example_parses_with_and_binding_tighter_than_or() -> None:
    expression = parse_filter("name$eq:Joe$and:(city$like:*port$or:age$lt:40)")
    assert expression == BoolOp(
        "and",
        (
            Predicate("name", "eq", "Joe"),
            BoolOp("or", (Like("city", (WILDCARD, "port")), Predicate("age", "lt", "40"))),
        ),
    )
    assert parse_filter("a$eq:1$or:b$eq:2$and:c$eq:3") == BoolOp(
        "or",
        (
            Predicate("a", "eq", "1"),
            BoolOp("and", (Predicate("b", "eq", "2"), Predicate("c", "eq", "3"))),
        ),
    )


def test_string_comparison_is_case_insensitive() -> None:
    assert names("name$eq:JOE") == ["Joe", "joe"]
    assert names("name$ne:joe") == ["Ann (CEO)", "Bo*"]


def test_like_without_wildcard_means_contains_and_star_is_a_wildcard() -> None:
    assert names("city$like:port") == ["Joe", "Ann (CEO)"]  # Newport, Port Said
    assert names("city$like:*port") == ["Joe"]
    assert names("city$like:port*") == ["Ann (CEO)"]
    assert names("city$like:*a*h*") == ["joe"]


def test_escapes_make_special_characters_literal() -> None:
    assert names("name$eq:Ann $(CEO$)") == ["Ann (CEO)"]
    assert names("name$eq:Bo$*") == ["Bo*"]
    assert names("name$like:o$*") == ["Bo*"]
    assert parse_filter("name$eq:a$$b$,c$[d$]") == Predicate("name", "eq", "a$b,c[d]")


def test_numeric_date_and_boolean_comparisons() -> None:
    assert names("age$gt:35") == ["joe", "Bo*"]
    assert names("age$gte:35$and:age$lte:41") == ["Joe", "Bo*"]
    assert names("amount$lt:10.5") == ["joe"]
    assert names("date$gte:2026-01-01") == ["Joe", "joe"]
    assert names("barred$eq:true") == ["Ann (CEO)"]
    assert names("barred$eq:false") == ["Joe", "joe", "Bo*"]


def test_null_matches_missing_values() -> None:
    assert names("city$eq:$null:") == ["Bo*"]
    assert names("city$ne:$null:") == ["Joe", "joe", "Ann (CEO)"]
    assert names("customer.customerNumber$eq:7") == ["Bo*"]


def test_in_and_nin_on_numbers() -> None:
    assert names("age$in:[35,41]") == ["Joe", "Bo*"]
    assert names("age$nin:[35,41]") == ["joe", "Ann (CEO)"]
    assert names("amount$in:[$null:,3]") == ["joe", "Ann (CEO)", "Bo*"]


def test_in_rejects_strings_too_many_values_and_non_numbers() -> None:
    with pytest.raises(FilterError, match="numeric"):
        names("name$in:[1,2]")
    with pytest.raises(FilterError, match="at most 200"):
        parse_filter("age$in:[" + ",".join(str(n) for n in range(MAX_IN_VALUES + 1)) + "]")
    parse_filter("age$in:[" + ",".join(str(n) for n in range(MAX_IN_VALUES)) + "]")
    with pytest.raises(FilterError, match="numbers only"):
        parse_filter("age$in:[a]")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "name",
        "name$xx:1",
        "(name$eq:1",
        "name$eq:1)",
        "name$eq:a$b",
        "$and:name$eq:1",
        "age$in:1",
        "name$eq:Ann (CEO)",
        "(name$eq:a(b)",
    ],
)
def test_malformed_filters_are_rejected(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text)


def test_an_escaped_parenthesis_is_part_of_the_value() -> None:
    assert names("name$eq:Ann $(CEO$)") == ["Ann (CEO)"]


def test_with_the_fields_a_filter_is_checked_before_any_record_is_read() -> None:
    with pytest.raises(FilterError, match="not filterable"):
        parse_filter("email$eq:x", KINDS)
    with pytest.raises(FilterError, match="date"):
        parse_filter("age$gt:1$or:date$eq:20260301", KINDS)
    with pytest.raises(FilterError, match="date"):
        parse_filter("date$gte:2026-03-01T10:00", KINDS)


def test_non_filterable_property_is_rejected_on_evaluation() -> None:
    with pytest.raises(FilterError, match="not filterable"):
        names("email$eq:x")


def test_invalid_typed_values_are_rejected() -> None:
    with pytest.raises(FilterError, match="integer"):
        names("age$eq:old")
    with pytest.raises(FilterError, match="date"):
        names("date$eq:yesterday")


def test_sort_descending_alphabetic_and_non_sortable() -> None:
    keys = parse_sort("-age", KINDS)
    assert [r["age"] for r in sort_records(RECORDS, keys, KINDS)] == [50, 41, 35, 28]
    records = [{"name": "b", "age": 1000}, {"name": "B", "age": 30}, {"name": "a", "age": 200}]
    assert [r["age"] for r in sort_records(records, parse_sort("age", KINDS), KINDS)] == [
        30,
        200,
        1000,
    ]
    assert [r["age"] for r in sort_records(records, parse_sort("~age", KINDS), KINDS)] == [
        1000,
        200,
        30,
    ]
    by_name = sort_records(records, parse_sort("name,-age", KINDS), KINDS)
    assert [r["age"] for r in by_name] == [200, 1000, 30]
    with pytest.raises(FilterError, match="not sortable"):
        parse_sort("email", KINDS)


# ---------------------------------------------------------------- property-based round trips


def _merge_parts(parts: list[object]) -> tuple[object, ...]:
    merged: list[object] = []
    for part in parts:
        if part is WILDCARD and merged and merged[-1] is WILDCARD:
            continue
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + part
            continue
        merged.append(part)
    return tuple(merged)


fields = st.sampled_from(["name", "city", "customer.customerNumber", "a_b"])
text_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
)
predicates = st.builds(
    Predicate,
    fields,
    st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
    st.one_of(st.none(), text_values),
)
likes = st.builds(
    Like,
    fields,
    st.one_of(
        st.none(),
        st.lists(st.one_of(st.just(WILDCARD), text_values.filter(bool)), max_size=4).map(
            _merge_parts
        ),
    ),
)
in_lists = st.builds(
    InList,
    fields,
    st.booleans(),
    st.lists(
        st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=2)),
        min_size=1,
        max_size=5,
    ).map(tuple),
)
leaves = st.one_of(predicates, likes, in_lists)


expressions: st.SearchStrategy[Expression] = st.recursive(
    leaves,
    lambda children: st.builds(
        BoolOp,
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=2, max_size=3).map(tuple),
    ),
    max_leaves=8,
)


@given(expressions)
def test_format_then_parse_is_the_identity(expression: Expression) -> None:
    assert parse_filter(format_expression(expression)) == expression


@given(text_values)
def test_escaped_text_reads_back_verbatim(value: str) -> None:
    assert parse_filter(f"name$eq:{escape(value)}") == Predicate("name", "eq", value)


@given(text_values, text_values)
def test_like_without_wildcards_is_contains(haystack: str, needle: str) -> None:
    expression = parse_filter(f"name$like:{escape(needle)}")
    assert evaluate(expression, {"name": haystack}, KINDS) == (
        needle.casefold() in haystack.casefold()
    )
