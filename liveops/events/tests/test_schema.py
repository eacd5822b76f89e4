"""The canonical event schema: validation, normalisation, stable ids, Arrow conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveops.events.schema import (
    ARROW_SCHEMA,
    KINDS,
    MAX_ID,
    MAX_NAME,
    MAX_RAW_BYTES,
    MAX_TEXT,
    REJECTION_CODES,
    NormalizedEvent,
    Rejection,
    parse_timestamp,
    stable_event_id,
    to_arrow,
    validate,
)

WS, SESSION = 7, 42
TS = "2025-06-01T12:00:00.123Z"
TS_MS = 1748779200123
LONG_NAME = "n" * (MAX_NAME + 1)


def check(row: Any, **kwargs: Any) -> NormalizedEvent | Rejection:
    return validate(row, workspace_id=WS, session_id=SESSION, **kwargs)


def accepted(row: Any, **kwargs: Any) -> NormalizedEvent:
    result = check(row, **kwargs)
    assert isinstance(result, NormalizedEvent), result
    return result


def rejected(row: Any) -> Rejection:
    result = check(row)
    assert isinstance(result, Rejection), result
    assert result.code in REJECTION_CODES
    assert result.message
    return result


def test_a_full_order_is_normalised() -> None:
    row = {
        "event_id": "ord-1",
        "kind": "order",
        "ts": "2025-06-01T20:00:00.123+08:00",
        "viewer_id": 1234567,
        "viewer_name": "小明",
        "amount": "199.90",
        "currency": "cny",
        "quantity": 2,
        "product_id": "sku-9",
        "source": "passphrase:SUMMER",
        "extra": {"kept": "in raw"},
    }
    event = accepted(row, platform="douyin", ingested_at_ms=TS_MS + 5)
    assert event.event_id == "ord-1"
    assert (event.workspace_id, event.session_id) == (WS, SESSION)
    assert event.ts_ms == TS_MS
    assert event.ts == datetime(2025, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert event.kind == "order"
    assert event.viewer_id == "1234567"
    assert event.viewer_name == "小明"
    assert event.amount == Decimal("199.9") and event.currency == "CNY"
    assert event.quantity == 2 and event.product_id == "sku-9"
    assert event.source == "passphrase:SUMMER"
    assert event.platform == "douyin"
    assert event.ingested_at_ms == TS_MS + 5
    assert '"extra":{"kept":"in raw"}' in event.raw and "小明" in event.raw


def test_row_platform_overrides_the_default_and_kind_is_case_insensitive() -> None:
    event = accepted({"kind": "Enter", "ts": TS, "platform": "bilibili"}, platform="douyin")
    assert event.platform == "bilibili" and event.kind == "enter"


def test_like_quantity_defaults_to_one() -> None:
    assert accepted({"kind": "like", "ts": TS}).quantity == 1
    assert accepted({"kind": "like", "ts": TS, "quantity": 15}).quantity == 15


@pytest.mark.parametrize(
    ("row", "code", "field"),
    [
        ([1, 2], "bad_row", "row"),
        ({"kind": "enter", "ts": TS, "x": 2**70}, None, None),  # big ints are fine in raw
        ({"ts": TS}, "missing_field", "kind"),
        ({"kind": "enter"}, "missing_field", "ts"),
        ({"kind": "enter", "ts": TS, "event_id": "  "}, "missing_field", "event_id"),
        ({"kind": "comment", "ts": TS}, "missing_field", "text"),
        ({"kind": "order", "ts": TS}, "missing_field", "amount"),
        ({"kind": "refund", "ts": TS}, "missing_field", "amount"),
        ({"kind": "gift", "ts": TS}, "missing_field", "quantity"),
        ({"kind": "product_click", "ts": TS}, "missing_field", "product_id"),
        ({"kind": "online_count", "ts": TS}, "missing_field", "quantity"),
        ({"kind": 3, "ts": TS}, "bad_type", "kind"),
        ({"kind": "enter", "ts": [1]}, "bad_type", "ts"),
        ({"kind": "enter", "ts": True}, "bad_type", "ts"),
        ({"kind": "enter", "ts": TS, "viewer_name": 5}, "bad_type", "viewer_name"),
        ({"kind": "enter", "ts": TS, "viewer_id": 1.5}, "bad_type", "viewer_id"),
        ({"kind": "enter", "ts": TS, "event_id": ["x"]}, "bad_type", "event_id"),
        ({"kind": "like", "ts": TS, "quantity": "many"}, "bad_type", "quantity"),
        ({"kind": "like", "ts": TS, "quantity": 1.5}, "bad_type", "quantity"),
        ({"kind": "order", "ts": TS, "amount": "12,50"}, "bad_type", "amount"),
        ({"kind": "order", "ts": TS, "amount": 1, "currency": 156}, "bad_type", "currency"),
        ({"kind": "comment", "ts": TS, "text": "\ud800"}, "bad_type", "text"),
        ({"kind": "dance", "ts": TS}, "bad_kind", "kind"),
        ({"kind": "enter", "ts": "2025-06-01T12:00:00"}, "bad_timestamp", "ts"),
        ({"kind": "enter", "ts": "yesterday"}, "bad_timestamp", "ts"),
        ({"kind": "enter", "ts": 12}, "bad_timestamp", "ts"),
        ({"kind": "enter", "ts": "4102444800000"}, "bad_timestamp", "ts"),  # 2100-01-01
        ({"kind": "enter", "ts": float("nan")}, "bad_timestamp", "ts"),
        ({"kind": "comment", "ts": TS, "text": "x" * (MAX_TEXT + 1)}, "too_long", "text"),
        ({"kind": "enter", "ts": TS, "event_id": "e" * (MAX_ID + 1)}, "too_long", "event_id"),
        ({"kind": "enter", "ts": TS, "viewer_id": "v" * (MAX_ID + 1)}, "too_long", "viewer_id"),
        ({"kind": "like", "ts": TS, "viewer_name": LONG_NAME}, "too_long", "viewer_name"),
        ({"kind": "enter", "ts": TS, "blob": "b" * MAX_RAW_BYTES}, "too_long", "raw"),
        ({"kind": "order", "ts": TS, "amount": 1, "currency": "yuan"}, "bad_currency", "currency"),
        ({"kind": "order", "ts": TS, "amount": 1, "currency": "C1Y"}, "bad_currency", "currency"),
        ({"kind": "order", "ts": TS, "amount": "1.00001"}, "bad_amount", "amount"),
        ({"kind": "order", "ts": TS, "amount": float("inf")}, "bad_amount", "amount"),
        ({"kind": "order", "ts": TS, "amount": "1e20"}, "bad_amount", "amount"),
        ({"kind": "order", "ts": TS, "amount": -3}, "negative_amount", "amount"),
        ({"kind": "refund", "ts": TS, "amount": "-0.01"}, "negative_amount", "amount"),
        ({"kind": "online_count", "ts": TS, "quantity": -1}, "bad_quantity", "quantity"),
        ({"kind": "like", "ts": TS, "quantity": 2**63}, "bad_quantity", "quantity"),
        ({"kind": "enter", "ts": TS, "workspace_id": 8}, "mismatch", "workspace_id"),
        ({"kind": "enter", "ts": TS, "session_id": "41"}, "mismatch", "session_id"),
    ],
)
def test_rejections_name_code_and_field(row: Any, code: str | None, field: str | None) -> None:
    result = check(row)
    if code is None:
        assert isinstance(result, NormalizedEvent), result
        return
    assert isinstance(result, Rejection), result
    assert (result.code, result.field) == (code, field), result.message
    assert len(result.message) > 20
    assert result.to_dict()["code"] == code


def test_every_rejection_code_is_reachable() -> None:
    rows: list[Any] = [
        [1],
        {"ts": TS},
        {"kind": 1, "ts": TS},
        {"kind": "x", "ts": TS},
        {"kind": "enter", "ts": "2025-01-01T00:00:00"},
        {"kind": "comment", "ts": TS, "text": "x" * (MAX_TEXT + 1)},
        {"kind": "order", "ts": TS, "amount": 1, "currency": "RMB1"},
        {"kind": "order", "ts": TS, "amount": "0.00001"},
        {"kind": "order", "ts": TS, "amount": -1},
        {"kind": "like", "ts": TS, "quantity": -1},
        {"kind": "like", "ts": TS, "workspace_id": WS + 1},
    ]
    assert {rejected(row).code for row in rows} == REJECTION_CODES


def test_rejections_carry_the_event_id_when_known() -> None:
    assert rejected({"event_id": "abc", "kind": "dance", "ts": TS}).event_id == "abc"
    assert rejected({"kind": "dance", "ts": TS}).event_id == stable_event_id(
        {"kind": "dance", "ts": TS}
    )


def test_naive_timestamp_message_says_how_to_fix() -> None:
    message = rejected({"kind": "enter", "ts": "2025-06-01 20:00:00"}).message
    assert "time zone" in message and "Z" in message and "+08:00" in message


@pytest.mark.parametrize(
    ("ts", "expected_ms"),
    [
        ("2025-06-01T12:00:00.123Z", TS_MS),
        ("2025-06-01T20:00:00.123+08:00", TS_MS),
        ("2025-06-01 07:00:00.123-05:00", TS_MS),
        ("2025-06-01T12:00:00.1234567Z", TS_MS),  # sub-ms digits are rounded
        ("2025-06-01T12:00:00.1235Z", TS_MS + 1),
        (1748779200, TS_MS - 123),  # epoch seconds
        (1748779200.123, TS_MS),  # fractional seconds
        (TS_MS, TS_MS),  # epoch milliseconds
        (float(TS_MS), TS_MS),
        (TS_MS * 1000 + 456, TS_MS),  # epoch microseconds
        (TS_MS * 1_000_000, TS_MS),  # epoch nanoseconds
        ("1748779200123", TS_MS),  # numeric strings, as CSV imports give them
        (" 1748779200.123 ", TS_MS),
        (datetime(2025, 6, 1, 20, 0, 0, 123000, tzinfo=timezone(timedelta(hours=8))), TS_MS),
    ],
)
def test_timestamp_formats_normalise_to_utc_ms(ts: Any, expected_ms: int) -> None:
    assert accepted({"kind": "enter", "ts": ts}).ts_ms == expected_ms
    assert parse_timestamp(ts) == expected_ms


def test_naive_datetime_is_rejected() -> None:
    assert rejected({"kind": "enter", "ts": datetime(2025, 6, 1)}).code == "bad_timestamp"
    with pytest.raises(ValueError, match="time zone"):
        parse_timestamp("2025-06-01T00:00:00")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("12.50", "12.5"), (12, "12"), (0.1, "0.1"), (19.99, "19.99"), ("1e2", "100"), ("-0", "0")],
)
def test_amounts_are_exact_decimals(amount: Any, expected: str) -> None:
    event = accepted({"kind": "order", "ts": TS, "amount": amount})
    assert event.amount == Decimal(expected)
    assert event.amount is not None and event.amount.as_tuple().exponent == -4


def test_gift_with_value_only_or_count_only() -> None:
    assert accepted({"kind": "gift", "ts": TS, "amount": 1}).quantity is None
    assert accepted({"kind": "gift", "ts": TS, "quantity": 3}).amount is None


def test_online_count_zero_is_valid() -> None:
    assert accepted({"kind": "online_count", "ts": TS, "quantity": "0"}).quantity == 0


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(TypeError):
        validate({"kind": "enter", "ts": TS}, workspace_id="7", session_id=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        validate({"kind": "enter", "ts": TS}, workspace_id=2**64, session_id=1)


# -- stable ids ------------------------------------------------------------------------------


def test_stable_ids_are_equal_for_equal_records() -> None:
    a = {"kind": "comment", "ts": TS, "text": "你好", "viewer_id": "v1"}
    b = {"viewer_id": "v1", "text": "你好", "ts": TS, "kind": "comment"}  # other key order
    raw = b'{ "kind": "comment",\n "ts": "2025-06-01T12:00:00.123Z", "text": "\\u4f60\\u597d",'
    raw += b' "viewer_id": "v1" }'
    assert stable_event_id(a) == stable_event_id(b) == stable_event_id(raw)
    assert stable_event_id(a).startswith("h:") and len(stable_event_id(a)) == 34
    assert accepted(a).event_id == accepted(b).event_id == stable_event_id(a)


def test_stable_ids_differ_for_different_records() -> None:
    base: dict[str, Any] = {"kind": "comment", "ts": TS, "text": "hi", "viewer_id": "v1"}
    variants = [
        base,
        {**base, "text": "hi!"},
        {**base, "ts": TS_MS},
        {**base, "viewer_id": "v2"},
        {**base, "extra": None},
    ]
    ids = {stable_event_id(v) for v in variants}
    assert len(ids) == len(variants)
    assert stable_event_id(b"not json") != stable_event_id(b"not json!")
    assert stable_event_id(b"not json") == stable_event_id(b"not json")


def test_source_ids_win_and_integers_become_text() -> None:
    assert accepted({"event_id": 99, "kind": "enter", "ts": TS}).event_id == "99"
    with pytest.raises(TypeError):
        stable_event_id(["a"])  # type: ignore[arg-type]


# -- Arrow -------------------------------------------------------------------------------------


def test_to_arrow_matches_the_schema_and_keeps_values() -> None:
    events = [
        accepted({"kind": "order", "ts": TS, "amount": "9.99", "currency": "USD", "viewer_id": 1}),
        accepted({"kind": "comment", "ts": TS_MS + 1, "text": "好"}, ingested_at_ms=TS_MS + 9),
    ]
    table = to_arrow(events)
    assert table.schema.equals(ARROW_SCHEMA)
    rows = table.to_pylist()
    assert rows[0]["amount"] == Decimal("9.99") and rows[0]["currency"] == "USD"
    assert rows[0]["ts"] == datetime(2025, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert rows[1]["text"] == "好" and rows[1]["amount"] is None
    assert rows[1]["ingested_at"] == datetime(2025, 6, 1, 12, 0, 0, 132000, tzinfo=UTC)
    assert to_arrow([]).num_rows == 0 and to_arrow([]).schema.equals(ARROW_SCHEMA)
    assert table.column("ts").type == pa.timestamp("us", tz="UTC")


# -- properties ---------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "event_id",
        "kind",
        "ts",
        "viewer_id",
        "viewer_name",
        "text",
        "quantity",
        "amount",
        "currency",
        "product_id",
        "source",
        "platform",
        "workspace_id",
        "session_id",
    ]
)
json_rows = st.dictionaries(field_names | st.text(max_size=10), json_values, max_size=10)


@settings(max_examples=300, deadline=None)
@given(row=json_rows | json_values)
def test_validate_never_raises_for_json_like_input(row: Any) -> None:
    result = check(row)
    assert isinstance(result, NormalizedEvent | Rejection)
    if isinstance(result, Rejection):
        assert result.code in REJECTION_CODES and result.message
    else:
        assert to_arrow([result]).num_rows == 1


plausible_rows = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(sorted(KINDS)),
        "ts": st.integers(min_value=946_684_800_000, max_value=4_102_444_799_999)
        | st.datetimes(
            min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
        ).map(lambda d: d.isoformat()),
    },
    optional={
        "event_id": st.text(min_size=1, max_size=MAX_ID) | st.integers(),
        "viewer_id": st.text(max_size=MAX_ID) | st.integers(min_value=0),
        "text": st.text(max_size=50),
        "quantity": st.integers(min_value=-2, max_value=2**63),
        "amount": st.decimals(allow_nan=True, places=5) | st.floats() | st.integers(),
        "currency": st.sampled_from(["CNY", "usd", "EURO", ""]),
        "product_id": st.text(max_size=10),
    },
)


@settings(max_examples=300, deadline=None)
@given(row=plausible_rows)
def test_plausible_rows_convert_to_arrow_when_accepted(row: dict[str, Any]) -> None:
    result = check(row)
    if isinstance(result, NormalizedEvent):
        table = to_arrow([result])
        assert table.schema.equals(ARROW_SCHEMA)
        assert table.column("ts").to_pylist()[0] == result.ts
    else:
        assert result.code in REJECTION_CODES
