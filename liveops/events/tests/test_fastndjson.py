"""The columnar NDJSON fast path gives exactly the row path's events, rejections and outcome.

The row path here is today's code — ``ingest.parse_body`` + ``ingest.prepare`` +
``schema.to_arrow`` + ``ingest.outcome_of`` — with the one change the fast path assumes for
NDJSON bodies: ``raw`` (of events and of rejected rows) is the line as sent, stripped.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveops.events import fastndjson, schema
from liveops.events.fastndjson import fast_prepare, ndjson_text
from liveops.events.generator import generate
from liveops.events.ingest import (
    MAX_ROWS,
    BodyError,
    Prepared,
    outcome_of,
    parse_body,
    prepare,
    with_raw,
)
from liveops.events.services import tallied_of

WS, SESSION, PLATFORM = 7, 42, "douyin"
NOW = 1_780_000_000_000
COMPARED = [name for name in schema.COLUMNS if name != "ingested_at"]


@pytest.fixture(autouse=True)
def _raise_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unforeseen Arrow error must fail the tests, not hide behind the row path."""
    monkeypatch.setattr(fastndjson, "RAISE_ERRORS", True)


# --------------------------------------------------------------------------------------------
# The reference: the row path, raw = the line as sent
# --------------------------------------------------------------------------------------------


def raw_lines(body: bytes) -> list[str]:
    """parse_body's rows, as lines: non-blank lines of body.lstrip(), stripped."""
    return [line.strip().decode() for line in body.lstrip().splitlines() if line.strip()]


def row_path(body: bytes, platform: str | None = PLATFORM) -> tuple[Prepared, Any]:
    """prepare(parse_body(body)) with raw = the line, and its events as an Arrow table."""
    rows = parse_body(body, content_type="application/x-ndjson")
    raws = raw_lines(body)
    assert len(raws) == len(rows)
    batch = prepare(rows, workspace_id=WS, session_id=SESSION, platform=platform)
    batch.events = [
        with_raw(e, raws[i]) for e, i in zip(batch.events, batch.event_index, strict=True)
    ]
    batch.rejections = [(i, r, raws[i]) for i, r, _ in batch.rejections]
    return batch, schema.to_arrow(batch.events)


def fast(body: bytes, platform: str | None = PLATFORM) -> fastndjson.FastBatch | None:
    return fast_prepare(
        body, workspace_id=WS, session_id=SESSION, platform=platform, ingested_at_ms=NOW
    )


def _rejections(items: list[tuple[int, schema.Rejection, str]]) -> list[tuple[Any, ...]]:
    return [(i, r.code, r.field, r.message, r.event_id, raw) for i, r, raw in items]


def assert_same(body: bytes, platform: str | None = PLATFORM) -> fastndjson.FastBatch | None:
    """The fast path equals the row path on ``body`` (or gives up: None). Returns it."""
    try:
        ref, ref_table = row_path(body, platform)
    except BodyError:
        assert fast(body, platform) is None  # parse_body refuses the body: so does the fast path
        return None
    got = fast(body, platform)
    if got is None:
        return None
    assert got.sent == ref.sent
    assert got.table.schema == schema.ARROW_SCHEMA
    assert got.event_index.type == pa.int64()
    assert got.event_index.to_pylist() == ref.event_index
    table = got.table.select(COMPARED)
    want = ref_table.select(COMPARED)
    if not table.equals(want):
        for name in COMPARED:
            a, b = table.column(name).to_pylist(), want.column(name).to_pylist()
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                assert x == y, (name, ref.event_index[i], x, y, raw_lines(body)[ref.event_index[i]])
        raise AssertionError("tables differ")  # pragma: no cover
    assert set(got.table.column("ingested_at").cast(pa.int64()).to_pylist()) <= {NOW * 1000}
    assert _rejections(got.rejections) == _rejections(ref.rejections)
    assert set(got.fallback) >= {i for i, _, _ in ref.rejections}
    # the outcome, for a few answers of the store
    ids = [e.event_id for e in ref.events]
    rng = random.Random(len(body))
    for new_ids in (ids, [], rng.sample(ids, len(ids) // 2), list(reversed(ids))):
        assert_same_outcome(got, ref, new_ids)
    return got


def assert_same_outcome(got: fastndjson.FastBatch, ref: Prepared, new_ids: list[str]) -> None:
    mine = fastndjson.outcome_of(got, new_ids)
    want = outcome_of(ref, new_ids)
    # what the API records: services.tallied_of(outcome, events) = the outcome's own counts
    tallied = tallied_of(want, zip(ref.event_index, ref.events, strict=True))
    assert tallied.accepted == len(mine.accepted)
    assert tallied.duplicate == len(mine.duplicate)
    assert tallied.by_kind == mine.by_kind
    assert (tallied.first_ms, tallied.last_ms) == (mine.first_ts_ms, mine.last_ts_ms)
    assert mine.sent == want.sent
    assert mine.accepted == want.accepted
    assert mine.duplicate == want.duplicate
    assert _rejections(mine.rejected) == _rejections(want.rejected)
    assert mine.by_kind == want.by_kind
    assert mine.event_ids == want.event_ids
    assert (mine.first_ts_ms, mine.last_ts_ms) == (want.first_ts_ms, want.last_ts_ms)
    assert mine.counts() == want.counts()
    assert mine.results() == want.results()
    assert mine.results(errors_only=True) == want.results(errors_only=True)


def ndjson(rows: list[Any], *, dumps: Any = orjson.dumps, sep: bytes = b"\n") -> bytes:
    return sep.join(dumps(r) for r in rows)


def generated(n: int, seed: int, **options: Any) -> list[dict[str, Any]]:
    events = generate(
        n_events=n,
        duration_s=1800,
        viewers=max(50, n // 5),
        start=datetime(2026, 6, 1, 12, tzinfo=UTC),
        seed=seed,
        **options,
    )
    return list(events)


# --------------------------------------------------------------------------------------------
# Generated lives: every row takes the fast path
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "options"),
    [
        (1, {}),
        (2, {"ts_format": "iso"}),
        (3, {"platform": "tiktok", "currency": "USD"}),
        (4, {"platform": "bilibili"}),
    ],
)
def test_generated_batches_take_the_fast_path(seed: int, options: dict[str, Any]) -> None:
    rows = generated(3000, seed, **options)
    for start in range(0, len(rows), 1000):
        body = ndjson(rows[start : start + 1000])
        got = assert_same(body)
        assert got is not None
        assert got.fallback == [] and got.rejections == []
        assert got.table.num_rows == len(rows[start : start + 1000])


def test_bench_ingest_bodies() -> None:
    """The bodies bench/bench_ingest.py sends (generator slices, unique ids)."""
    rows = generated(5000, 7)
    for start in (0, 1234, 3999):
        chunk = [dict(r, event_id=f"w0n{start:07d}-{i:04d}") for i, r in enumerate(rows[start:])]
        got = assert_same(ndjson(chunk[:1000]))
        assert got is not None and got.fallback == []


def test_a_body_of_many_blocks() -> None:
    """10 000 rows (≈ 1.6 MB: pyarrow reads it in several blocks, on several threads)."""
    rows = generated(MAX_ROWS, 12)
    rows[5000]["kind"] = "dance"
    got = assert_same(ndjson(rows))
    assert got is not None and got.fallback == [5000] and got.table.num_rows == MAX_ROWS - 1


@pytest.mark.parametrize(
    "dumps",
    [
        lambda r: json.dumps(r).encode(),  # ", " / ": " and \u escapes
        lambda r: json.dumps(r, ensure_ascii=False, indent=None).encode(),
        lambda r: json.dumps(dict(reversed(list(r.items()))), separators=(",", ":")).encode(),
    ],
)
def test_other_serialisers(dumps: Any) -> None:
    rows = generated(800, 11)
    got = assert_same(ndjson(rows, dumps=dumps))
    assert got is not None
    # string amounts are renamed before reading, and a renamed key must be proven single:
    # rows with a backslash (\u escapes) and an amount string go to the row path
    assert {i for i in got.fallback if not isinstance(rows[i].get("amount"), str)} == set()


def test_line_shapes() -> None:
    rows = generated(300, 5)
    body = b"\n\n  " + b"\r\n".join(orjson.dumps(r) for r in rows) + b"\r\n\n \t\n"
    got = assert_same(body)
    assert got is not None and got.fallback == []
    # blank lines between rows do not count as rows ("item N" numbering)
    spaced = b"\n \n".join(orjson.dumps(r) for r in rows[:50])
    got = assert_same(spaced)
    assert got is not None and got.sent == 50


def test_duplicates_within_the_batch() -> None:
    rows = generated(400, 8)
    rows = rows + [dict(r) for r in rows[::7]] + [dict(rows[3], kind="comment", text="x")]
    random.Random(1).shuffle(rows)
    got = assert_same(ndjson(rows))
    assert got is not None and got.fallback == []
    assert got.table.num_rows == len(rows)


# --------------------------------------------------------------------------------------------
# Rows the fast path hands to the row path, without giving up on the batch
# --------------------------------------------------------------------------------------------

BASE = {"event_id": "e", "ts": 1_780_000_000_000, "kind": "like", "viewer_id": "v1"}

FALLBACK_ROWS: list[dict[str, Any]] = [
    {"_drop": ["event_id", "ts"]},
    {"_drop": ["event_id"]},  # no event_id: the stable hash of the canonical JSON
    {"_drop": ["kind"]},
    {"event_id": None},
    {"event_id": " ", "ts": 1, "kind": "like"},
    {"event_id": "x" * 129},
    {"kind": "dance"},
    {"kind": " LIKE "},
    {"kind": "Comment", "text": "hi"},
    {"kind": "li\u212ae"},  # Kelvin sign: lower() makes it "like"
    {"kind": ""},
    {"kind": "comment"},  # no text
    {"kind": "gift"},
    {"kind": "order"},
    {"kind": "refund", "amount": "-1"},
    {"kind": "product_click"},
    {"kind": "online_count"},
    {"ts": 5},
    {"ts": 4_102_444_800_000},
    {"ts": 946_684_799_999},
    {"ts": -1_780_000_000_000},
    {"ts": 0},
    {"viewer_id": "v" * 200},
    {"viewer_name": "n" * 129},
    {"text": "t" * 2001},
    {"source": "s" * 257},
    {"platform": "p" * 33},
    {"quantity": -1},
    {"amount": "12.12345"},
    {"amount": "1e2"},
    {"amount": " 3"},
    {"amount": "abc"},
    {"amount": "+5"},
    {"amount": "123456789012345"},
    {"amount": "-0.5"},
    {"currency": "US"},
    {"currency": "usd"},
    {"currency": " eur "},
    {"currency": "ſsd"},  # upper() of the long s is S
    {"workspace_id": 8},
    {"workspace_id": WS},
    {"session_id": SESSION + 1},
    {"extra": 1.5},  # a float elsewhere: the row path reads it
    {"extra": [1.5, 2.5]},
    {"extra": {"deep": {"er": "x"}}},
    {"extra": None, "more": "x"},
    {"text": "x" * 1990, "viewer_name": "y" * 100, "pad": "z" * 70_000},  # too long
]


def test_fallback_rows_keep_the_batch() -> None:
    rows = []
    for i, extra in enumerate(FALLBACK_ROWS):
        rows.append(dict(BASE, event_id=f"ok-{i}"))
        row = dict(BASE, event_id=f"odd-{i}")
        row.update(extra)
        for name in row.pop("_drop", []):
            del row[name]
        rows.append(row)
    got = assert_same(ndjson(rows))
    assert got is not None
    assert got.fallback  # some rows went through the row path …
    assert all(i % 2 for i in got.fallback)  # … never the plain ones
    accepted_odd = set(got.fallback) - {i for i, _, _ in got.rejections}
    assert accepted_odd  # " LIKE ", "usd" … are accepted by the row path


def test_rows_near_the_size_limit() -> None:
    rows = []
    for i, size in enumerate([65_536 - 400, 65_536 - 200, 65_536 - 80, 65_536 + 10, 70_000]):
        row = dict(BASE, event_id=f"big{i}", ts=1.78e12, quantity=1e3, amount=1e3)
        line = orjson.dumps(dict(row, pad=""))
        row["pad"] = "x" * (size - len(line))
        rows.append(row)
    spaced = [json.dumps(r, indent=1).replace("\n", "").encode() for r in rows]  # longer lines
    for body in (ndjson(rows), b"\n".join(spaced)):
        got = assert_same(body)
        assert got is not None and 0 not in got.fallback


@pytest.mark.parametrize(
    "values",
    [
        {"viewer_id": ["a1", 12, "b2", 7, None]},
        {"event_id": ["e1", 5, "e3", -9, "e5"]},
        {"ts": [1_780_000_000_000, "2026-06-01T12:00:00.123Z", "1780000000", 1_780_000_000]},
        {"quantity": [3, "4", 0, "0012", "x", 5]},
        {"amount": [1, "2.50", 0.1, "3", 12.5, 99, "0.0001", 0]},
        {"product_id": [5, "p5"], "kind": ["product_click", "product_click"]},
        {"workspace_id": [WS, str(WS), f" {WS} ", None, WS]},
        {"session_id": [SESSION, str(SESSION), "43"]},
    ],
)
def test_mixed_types_in_a_column(values: dict[str, list[Any]]) -> None:
    rows = []
    for i in range(60):
        row = dict(BASE, event_id=f"m{i}")
        for name, choices in values.items():
            row[name] = choices[i % len(choices)]
        if row["event_id"] is None:
            del row["event_id"]
        rows.append(row)
    got = assert_same(ndjson(rows))
    assert got is not None
    assert len(got.fallback) < len(rows) // 2


def test_timestamps() -> None:
    cases = [
        1_780_000_000,  # s
        1_780_000_000_123,  # ms
        1_780_000_000_123_500,  # µs, half to even
        1_780_000_000_124_500,
        1_780_000_000_123_499,
        1_780_000_000_123_456_789,  # ns
        1_780_000_000_123_500_000,
        "1780000000123",
        " 1780000000 ",
        "2026-06-01T12:00:00Z",
        "2026-06-01T12:00:00.5Z",
        "2026-06-01T12:00:00.0005Z",
        "2026-06-01T12:00:00.0015+08:00",
        "2026-06-01 12:00:00.123456-05:30",
        "2026-06-01T12:00Z",
        " 2026-06-01T12:00:00+01:00\u3000",
        "2026-06-01T12:00:00",  # naive: rejected
        "2026-02-30T12:00:00Z",  # no such day
        "2026-06-01T12:00:00.1234567Z",
        "2026-06-01T24:00:00Z",
        "1780000000.5",
        "1999-12-31T23:59:59.9995Z",
        "2099-12-31T23:59:59.9995Z",
        "",
        None,
        -9_223_372_036_854_776,  # × 1000 overflows int64
        -(2**63),
        2**63 - 1,
    ]
    rows = [dict(BASE, event_id=f"t{i}", ts=ts) for i, ts in enumerate(cases)]
    got = assert_same(ndjson(rows))
    assert got is not None


@pytest.mark.parametrize(
    "texts",
    [
        ["12.5", "1e2", "1.5E3", "123e36", "9.688385361921934e-235", "0.1e-19", "100e-22"],
        ["69937896032392909311608722415997079197", "1e13", "99999999999.9999", "1e-4"],
        ["0.30000000000000004", "12345678901.2345", "1234567890.12345", "-0", "-0.0", "0e5"],
    ],
)
def test_amount_number_spellings(texts: list[str]) -> None:
    """JSON number spellings of amounts (pyarrow's decimal conversion of these overflows)."""
    lines = [
        f'{{"event_id":"n{i}","ts":1780000000000,"kind":"order","amount":{t}}}'.encode()
        for i, t in enumerate(texts)
    ]
    lines.append(b'{"event_id":"s","ts":1780000000000,"kind":"order","amount":"7.50"}')
    got = assert_same(b"\n".join(lines))
    assert got is not None


def test_float_timestamps_and_quantities() -> None:
    cases: list[Any] = [
        1_780_000_000.123, 1_780_000_000.5, 1_780_000_000.0005, 1_780_000_000.0015,
        1_780_000_000_123.0, 1_780_000_000_123.5, 1_780_000_000_124.5, 1.78e12, 1.78e15,
        1.780000000123456e18, 1_780_000_000_123_499.9, 946_684_799.9995, 4_102_444_799.9994,
        1e300, 5e-324, 1_780_000_000,
    ]  # fmt: skip
    rng = random.Random(3)
    cases += [rng.uniform(946_684_800, 4_102_444_800) for _ in range(200)]
    cases += [rng.uniform(946_684_800, 4_102_444_800) * 1000 for _ in range(200)]
    cases += [round(rng.uniform(946_684_800, 4_102_444_800), 3) for _ in range(200)]
    rows = [dict(BASE, event_id=f"f{i}", ts=ts, quantity=5.0) for i, ts in enumerate(cases)]
    got = assert_same(ndjson(rows))
    assert got is not None
    assert len(got.fallback) <= 16  # the odd ones at the top of the list, at most
    quantities: list[Any] = [5.0, 0.0, 5.5, -1.0, 2.0**53, 2.0**52, 7, 1e20]
    for i, row in enumerate(rows):
        row["quantity"] = quantities[i % len(quantities)]
    assert assert_same(ndjson(rows)) is not None


def test_amounts() -> None:
    cases: list[Any] = [
        "12.50", "12.5000", "12.50000000", "7", "7.", "0", "0.0001", "00012.30",
        "99999999999999.9999", "100000000000000", 0, 45, 10**13, 10**14, 0.1, 12.345,
        99999999999.9999, 123456789012.5, 1e-05, 0.00005, 1e13, 1.5e13, -0.0,
    ]  # fmt: skip
    rows = [dict(BASE, event_id=f"a{i}", kind="order", amount=a) for i, a in enumerate(cases)]
    got = assert_same(ndjson(rows))
    assert got is not None
    fast_rows = set(range(len(rows))) - set(got.fallback)
    assert {0, 1, 2, 3, 10, 11, 14, 15} <= fast_rows


# --------------------------------------------------------------------------------------------
# Bodies the fast path leaves to the row path entirely
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\n{"event_id":"b",',  # bad JSON
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\n{"kind":NaN}',
        b'\xef\xbb\xbf{"event_id":"a","ts":1780000000000,"kind":"like"}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\r{"kind":"like"}',
        b'{"event_id":"a\\u0000","ts":1780000000000,"kind":"like"}\n{"event_id":5}',  # no split
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\n[1, 2]',
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\nnull',
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\n"x"',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","kind":"comment"}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like"} {"event_id":"b"}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","viewer_id":1.5}',
        b'{"event_id":"\xff","ts":1780000000000,"kind":"like"}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\n\x0c\n',
    ],
)
def test_bodies_left_to_the_row_path(body: bytes) -> None:
    assert fast(body) is None
    assert_same(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_id":"a","ts":1780000000000,"kind":true}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like"}\n{"event_id":"b","ts":1,"kind":5}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","x":1}\n{"event_id":"b","x":"y"}',
        b'{"event_id":"a\\u0000","ts":1780000000000,"kind":"like"}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","quantity":5.0}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","x":[1]}\n{"event_id":"b","x":{}}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","x":true}\n{"event_id":"b","x":2.5}',
        b'{"event_id":"a","ts":1780000000000,"kind":"comment","text":"hi"}\n'
        b'{"event_id":"b","ts":1780000000000,"kind":"comment","text":5}',
        b'{"event_id":"a","ts":1780000000000,"kind":"like","viewer_name":"n"}\n'
        b'{"event_id":"b","ts":1780000000000,"kind":"like","viewer_name":["n"]}',
    ],
)
def test_type_conflicts_split_the_key(body: bytes) -> None:
    got = assert_same(body)
    assert got is not None
    assert 0 in got.fallback or 1 in got.fallback or got.fallback == []


def test_too_many_rows() -> None:
    line = orjson.dumps(BASE)
    assert fast(b"\n".join([line] * (MAX_ROWS + 1))) is None
    assert fast(b"\n".join([line] * MAX_ROWS)) is not None


def test_duplicate_keys_of_split_fields() -> None:
    """A renamed key must not hide a second occurrence of the same key (orjson: last wins)."""
    lines = [
        b'{"event_id":"a","ts":"2026-06-01T12:00:00Z","kind":"like"}',
        b'{"event_id":"b","ts":1780000000000,"kind":"like"}',
        b'{"event_id":"c","ts":"2026-06-01T12:00:00Z","kind":"like","ts":null}',
        b'{"event_id":"d","ts":"2026-06-01T12:00:00Z","kind":"like","t\\u0073":null}',
        b'{"event_id":"e","ts":"2026-06-01T12:00:00Z","kind":"like","\\u0074s":5}',
        b'{"event_id":"f","ts" :"2026-06-01T12:00:00Z","kind":"like","ts": null}',
        b'{"event_id":"g","ts": "2026-06-01T12:00:00Z","kind":"like","x":{"ts":"y"}}',
    ]
    for body in (b"\n".join(lines), b"\n".join(lines[:2] + lines[2:][::-1])):
        assert_same(body)


def test_arguments_and_empty() -> None:
    with pytest.raises(TypeError):
        fast_prepare(b"{}", workspace_id="7", session_id=1, platform=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="platform"):
        fast_prepare(b"{}", workspace_id=7, session_id=1, platform="x" * 40)
    assert fast(b"") is None
    assert fast(b" \n\n ") is None


def test_no_default_platform() -> None:
    rows = generated(200, 9)
    for row in rows[::3]:
        row.pop("platform", None)
    got = assert_same(ndjson(rows), platform=None)
    assert got is not None and got.fallback == []


def test_ndjson_text() -> None:
    body = ndjson(generated(20, 3))
    assert ndjson_text(body) == body
    assert ndjson_text(b"  \n" + body) == body
    assert ndjson_text(gzip.compress(body)) == body
    with pytest.raises(BodyError):
        ndjson_text(b"not gzip", content_encoding="gzip")
    assert ndjson_text(b"[" + body + b"]") is None  # a JSON array: parse_body
    assert ndjson_text(b"[1]\n[2]", content_type="application/x-ndjson") == b"[1]\n[2]"
    assert ndjson_text(b"   ") is None


def test_whitespace_constant() -> None:
    computed = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert computed == fastndjson.PY_WHITESPACE


# --------------------------------------------------------------------------------------------
# Fuzz: a mix of good and bad rows, several serialisations
# --------------------------------------------------------------------------------------------

_TS = st.one_of(
    st.integers(946_684_800_000, 4_102_444_799_999),
    st.integers(946_684_800, 4_102_444_799),
    st.integers(946_684_800_000_000, 4_102_444_799_999_999),
    st.integers(946_684_800_000_000_000, 4_102_444_799_999_999_999),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(1_780_000_000_000, 1_780_000_000_010).map(str),
    st.datetimes(
        min_value=datetime(1999, 12, 31), max_value=datetime(2100, 1, 2), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)).map(
        lambda d: d.isoformat(sep=" ", timespec="milliseconds") + "+08:00"
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)).map(
        lambda d: d.isoformat()
    ),
    st.sampled_from(["", " 1780000000123", "1780000000.5", "yesterday", "2026-02-30T00:00Z"]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12
) | st.sampled_from(["", " ", "主播好", "🌸", 'a"b\\c', "\u2028", "\x00", "\x1f"])
_ID = st.one_of(
    st.from_regex(r"[a-z0-9\-]{1,10}", fullmatch=True),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from(["", " ", "x" * 129, "é" * 128]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
_KIND = st.one_of(
    st.sampled_from(sorted(schema.KINDS)),
    st.sampled_from([" like", "LIKE", "Order ", "dance", "", "li\u212ae", "コメント"]),
    st.integers(0, 3),
    st.none(),
)
_QUANTITY = st.one_of(
    st.integers(0, 10**6),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 1000).map(str),
    st.sampled_from(["", " 5", "+5", "5.0", "-1", "1_000", "١٢"]),
    st.sampled_from([5.0, 5.5, -0.0, 1e20]),
    st.none(),
)
_AMOUNT = st.one_of(
    st.decimals(min_value=0, max_value=10**14, places=4, allow_nan=False).map(str),
    st.decimals(min_value=-100, max_value=10**15, places=6, allow_nan=False).map(str),
    st.integers(-10, 10**15),
    st.floats(min_value=-10, max_value=1e15, allow_nan=False),
    st.sampled_from(["", " 12", "12.", ".5", "1e3", "abc", "NaN", "-0", "0.10000"]),
    st.none(),
)
_CURRENCY = st.one_of(
    st.sampled_from(["CNY", "usd", " Eur ", "US", "EURO", "", "€€€", "ſsd"]),
    st.integers(0, 999),
    st.none(),
)
_OWNER = st.sampled_from([None, WS, SESSION, str(WS), str(SESSION), f" {WS} ", 8, "x"])
_EXTRA = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    _TEXT,
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(0, 9), max_size=3),
    st.fixed_dictionaries({"a": st.integers(0, 9)}),
)

_FIELDS: dict[str, Any] = {
    "event_id": _ID,
    "ts": _TS,
    "kind": _KIND,
    "viewer_id": _ID,
    "viewer_name": _TEXT,
    "text": _TEXT,
    "quantity": _QUANTITY,
    "amount": _AMOUNT,
    "currency": _CURRENCY,
    "product_id": _ID,
    "source": _TEXT,
    "platform": _TEXT,
    "workspace_id": _OWNER,
    "session_id": _OWNER,
    "extra": _EXTRA,
}
# how often a field is present in a row
_SHARE = {"event_id": 0.9, "ts": 0.95, "kind": 0.97, "workspace_id": 0.1, "session_id": 0.1}


@st.composite
def batches(draw: Any) -> bytes:
    """NDJSON of good generator rows with some fields replaced by fuzzed values."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    size = draw(st.integers(1, 40))
    rows = [dict(r) for r in itertools.islice(_POOL, rng.randrange(500), None)][:size]
    fuzzed = draw(st.lists(st.sampled_from(sorted(_FIELDS)), max_size=4, unique=True))
    share = draw(st.sampled_from([0.05, 0.3, 1.0]))
    for row in rows:
        for name in fuzzed:
            if rng.random() < share:
                if rng.random() < _SHARE.get(name, 0.5):
                    row[name] = draw(_FIELDS[name])
                else:
                    row.pop(name, None)
    if draw(st.booleans()):  # repeated ids
        for row in rows:
            if rng.random() < 0.2 and rows[0].get("event_id") is not None:
                row["event_id"] = rows[0]["event_id"]
    style = draw(st.sampled_from(["orjson", "json", "ascii", "shuffled"]))
    lines = []
    for row in rows:
        if style == "orjson":
            lines.append(orjson.dumps(row))
        elif style == "json":
            lines.append(json.dumps(row, ensure_ascii=False).encode())
        elif style == "ascii":
            lines.append(json.dumps(row).encode())
        else:
            items = list(row.items())
            rng.shuffle(items)
            lines.append(json.dumps(dict(items), separators=(",", ":")).encode())
    sep = draw(st.sampled_from([b"\n", b"\r\n", b"\n\n", b"\n \n"]))
    return sep.join(lines) + draw(st.sampled_from([b"", b"\n", b" \n"]))


_POOL = generated(1000, 21)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batches())
def test_fuzz_equals_row_path(body: bytes) -> None:
    assert_same(body)


def test_fuzz_mostly_takes_the_fast_path() -> None:
    """The fuzz above is not vacuous: most batches are read by the fast path."""
    rng = random.Random(5)
    none = 0
    for _ in range(60):
        rows = [dict(r) for r in _POOL[rng.randrange(900) :][:30]]
        for row in rows:
            name = rng.choice(sorted(_FIELDS))
            row[name] = rng.choice(FALLBACK_VALUES[name])
        body = ndjson(rows)
        got = assert_same(body)
        none += got is None
    assert none <= 10


#: Bad or odd values of each field that keep the body readable (same JSON type per field)
FALLBACK_VALUES: dict[str, list[Any]] = {
    "event_id": ["", " ", "x" * 129, "ok"],
    "ts": [5, 4_102_444_800_000, -1, 1_780_000_000],
    "kind": ["dance", " LIKE", "", "comment"],
    "viewer_id": ["v" * 129, "", "v"],
    "viewer_name": ["n" * 129, "", "n"],
    "text": ["t" * 2001, "", "t"],
    "quantity": [-1, 0, 2**62],
    "amount": ["12.12345", "-1", " 3", "abc", "1.50"],
    "currency": ["US", "usd", " eur ", "CNY"],
    "product_id": ["p" * 129, "", "p"],
    "source": ["s" * 257, ""],
    "platform": ["p" * 33, ""],
    "workspace_id": [WS, 8],
    "session_id": [SESSION, 1],
    "extra": [1, "x", None, [1, 2], 2.5],
}


def test_decimal_sanity() -> None:
    """The reference itself: amounts are exact decimals in the row path."""
    batch, table = row_path(ndjson([dict(BASE, kind="order", amount="12.5")]))
    assert table.column("amount").to_pylist() == [Decimal("12.5000")]
    assert batch.rejections == []


# --------------------------------------------------------------------------------------------
# Fuzz: JSON spelled in odd ways (escaped keys, duplicate keys, spacing, nested known keys)
# --------------------------------------------------------------------------------------------


def _spell_key(key: str, style: int) -> str:
    if style == 1 and key:  # one character as a \u escape
        return '"' + f"\\u{ord(key[0]):04x}" + key[1:] + '"'
    return orjson.dumps(key).decode()


@st.composite
def odd_lines(draw: Any) -> bytes:
    rng = random.Random(draw(st.integers(0, 2**32)))
    size = draw(st.integers(1, 12))
    names = sorted(_FIELDS)
    lines = []
    for row in [dict(r) for r in _POOL[rng.randrange(900) :][:size]]:
        for _ in range(draw(st.integers(0, 2))):
            name = draw(st.sampled_from(names))
            row[name] = draw(_FIELDS[name])
        items = [(k, orjson.dumps(v).decode()) for k, v in row.items()]
        if draw(st.booleans()):  # a duplicate key (orjson keeps the last one)
            name = draw(st.sampled_from(names))
            value = draw(st.one_of(st.none(), _FIELDS[name]))
            items.insert(rng.randrange(len(items) + 1), (name, orjson.dumps(value).decode()))
        if draw(st.booleans()):  # a known key inside an extra object
            name = draw(st.sampled_from(names))
            inner = orjson.dumps({name: draw(_FIELDS[name])}).decode()
            items.append(("meta", inner))
        parts = []
        for key, text in items:
            style = draw(st.sampled_from([0, 0, 0, 1]))
            sep = draw(st.sampled_from([":", ":", ": ", " : ", ":\t"]))
            parts.append(_spell_key(key, style) + sep + text)
        lines.append(("{" + draw(st.sampled_from([",", ", "])).join(parts) + "}").encode())
    return b"\n".join(lines)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(odd_lines())
def test_fuzz_odd_json_equals_row_path(body: bytes) -> None:
    assert_same(body)
