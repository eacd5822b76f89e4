"""Big CSV files take the columnar path through import_file and end exactly as the row path."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pytest

from liveops.events import bulk, services
from liveops.events.models import ImportJob, RejectedRow
from liveops.events.runtime import event_store, reset_event_store
from liveops.planning.models import LiveSession
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

HEADERS = ["时间", "类型", "用户ID", "昵称", "内容", "数量", "金额", "订单号"]
KINDS = ["点赞", "评论", "进入", "离开", "礼物", "关注", "下单"]


def _write(path: Path, rows: int, *, seed: int = 3, broken_at: int | None = None) -> None:
    """A Douyin-style export with a few bad rows, repeated lines and (optionally) a row
    with too many cells, which pyarrow cannot read (the fast path gives up there)."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        previous: list[str] | None = None
        for i in range(rows):
            kind = rng.choice(KINDS)
            row = [
                f"2024-06-01 20:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 1000:03d}",
                kind,
                str(rng.randrange(1, 400)),
                f"用户{rng.randrange(1, 400)}",
                rng.choice(["主播好", "666", "=cmd|' /C calc'!A0", "多少钱？"])
                if kind == "评论"
                else "",
                str(rng.randrange(1, 9)) if kind in ("点赞", "礼物", "下单") else "",
                f"{rng.randrange(100, 9999) / 100:.2f}" if kind == "下单" else "",
                f"D{i:07d}" if kind == "下单" else "",
            ]
            if i % 97 == 5:
                row[6], row[1] = "-3", "下单"  # rejected: negative amount
            if i % 89 == 7 and previous is not None:
                row = previous  # an identical line: a distinct event (#1 id)
            if i % 211 == 9:
                row[0] = "yesterday"  # rejected: bad time
            if broken_at is not None and i == broken_at:
                row = [*row, "extra", "cells"]
            writer.writerow(row)
            previous = row


def _import(session: LiveSession, path: Path) -> ImportJob:
    return services.import_file(
        session=session, path=str(path), fmt="csv", options={"time_zone": "Asia/Shanghai"}
    )


def _state(session: LiveSession, job: ImportJob) -> dict[str, Any]:
    with event_store()._duckdb() as con:
        events = (
            event_store()
            .duckdb_relation(con, session.workspace_id, session.pk)
            .select("event_id, ts, kind, viewer_id, viewer_name, text, quantity, amount, raw")
            .order("event_id")
            .fetchall()
        )
    rejected = sorted(
        RejectedRow.objects.filter(session=session).values_list("location", "code", "field", "raw")
    )
    counts = {
        k: getattr(job, k)
        for k in ("records", "accepted", "duplicate", "rejected", "by_kind", "skipped")
    }
    return {"events": events, "rejected": rejected, "counts": counts}


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 16 KiB and no size floor, so a test file spans many blocks."""
    monkeypatch.setattr(bulk, "MIN_FAST_BYTES", 0)
    monkeypatch.setattr(bulk, "BLOCK_BYTES", 16 << 10)


def _row_path_state(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    reset_event_store()
    session = SessionFactory()
    with monkeypatch.context() as patch:
        patch.setattr(services, "fast_items", lambda **kwargs: None)
        job = _import(session, path)
    return _state(session, job)


@pytest.mark.parametrize("broken_at", [None, 2500], ids=["whole-file", "gives-up-midway"])
def test_fast_path_import_equals_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None, broken_at: int | None
) -> None:
    path = tmp_path / "export.csv"
    _write(path, 4000, broken_at=broken_at)
    taken: list[int] = []
    real_fast_items = bulk.fast_items

    def spy(**kwargs: Any) -> Any:
        items = real_fast_items(**kwargs)
        assert items is not None, "this file must take the fast path"
        for item in items:
            taken.append(1 if isinstance(item, bulk.Block) else 0)
            yield item

    session = SessionFactory()
    with monkeypatch.context() as patch:
        patch.setattr(services, "fast_items", spy)
        job = _import(session, path)
    fast = _state(session, job)
    assert sum(taken) > 5, "several blocks came from the columnar reader"
    if broken_at is not None:
        assert taken[-1] == 0, "after giving up, the rest came from the row importer"
    assert job.status == "done", job.error
    row = _row_path_state(path, monkeypatch)
    assert fast == row
    counts = fast["counts"]
    assert counts["records"] == 4000
    assert counts["accepted"] + counts["duplicate"] + counts["rejected"] == 4000
    assert counts["rejected"] > 40  # bad amounts and times, each with its row


def test_fast_path_reimport_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None
) -> None:
    path = tmp_path / "export.csv"
    _write(path, 3000)
    session = SessionFactory()
    first = _import(session, path)
    stored = event_store().count(session.workspace_id, session.pk)
    assert stored == first.accepted > 2500
    quarantined = RejectedRow.objects.filter(session=session).count()
    assert 0 < quarantined <= first.rejected  # identical bad lines are kept once
    again = _import(session, path)
    assert (again.accepted, again.duplicate) == (0, first.accepted + first.duplicate)
    assert again.rejected == first.rejected
    assert event_store().count(session.workspace_id, session.pk) == stored
    assert RejectedRow.objects.filter(session=session).count() == quarantined


def test_small_and_gzipped_files_take_the_row_path(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    _write(path, 50)
    assert (
        bulk.fast_items(
            fmt="csv",
            path=path,
            importer=None,  # type: ignore[arg-type]
            options={},
            workspace_id=1,
            session_id=1,
            platform="douyin",
            size=path.stat().st_size,
        )
        is None
    )


def _write_chat(path: Path, n: int, *, broken: bool = False) -> None:
    """chat-downloader's current schema: text, paid messages, tickers, a few bad items."""
    rng = random.Random(5)
    items = []
    for i in range(n):
        ts = 1_717_243_200_000_000 + i * 700_000
        item: dict[str, Any] = {
            "message_id": f"m{i}",
            "message_type": "text_message",
            "timestamp": ts,
            "author": {"id": f"UC{rng.randrange(10**6):022d}", "name": f"观众{i % 97}"},
            "message": rng.choice(["好看", "多少钱？", "=1+1", "hello"]),
        }
        if i % 50 == 7:
            item["message_type"] = "paid_message"
            item["money"] = {"text": "$5.00", "amount": 5, "currency": "USD"}
        if i % 113 == 3:
            item["message_type"] = "ticker_paid_message_item"
        if i % 131 == 11:
            del item["timestamp"]  # rejected: no time
        items.append(item)
    text = json.dumps(items, ensure_ascii=False, indent=4)
    if broken:  # an item pyarrow/DuckDB cannot read: the fast path gives up there
        cut = text.index('"m2500"')
        text = text[:cut] + '"m2500" oops' + text[cut + len('"m2500"') :]
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("broken", [False, True], ids=["whole-file", "gives-up-midway"])
def test_chat_downloader_fast_path_equals_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None, broken: bool
) -> None:
    path = tmp_path / "chat.json"
    _write_chat(path, 3000, broken=broken)
    taken: list[int] = []
    real_fast_items = bulk.fast_items

    def spy(**kwargs: Any) -> Any:
        items = real_fast_items(**kwargs)
        assert items is not None, "this file must take the fast path"
        for item in items:
            taken.append(1 if isinstance(item, bulk.Block) else 0)
            yield item

    def run(session: LiveSession, fast: Any) -> ImportJob:
        with monkeypatch.context() as patch:
            patch.setattr(services, "fast_items", fast)
            return services.import_file(session=session, path=str(path), fmt="chat-downloader")

    session = SessionFactory()
    fast_state = _state(session, run(session, spy))
    if broken:  # DuckDB reads ahead: on a small file it gives up before the first block
        assert taken and taken[-1] == 0, "the row importer finished the file"
    else:
        assert sum(taken) >= 1 and 0 not in taken
    reset_event_store()
    other = SessionFactory()
    row_state = _state(other, run(other, lambda **kwargs: None))
    assert fast_state == row_state
    counts = fast_state["counts"]
    assert counts["accepted"] > 2500 and counts["rejected"] >= 20
    assert counts["skipped"]  # tickers
