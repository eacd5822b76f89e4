"""The session digest: built in pieces, in any arrival order, it equals the digest of all
the events at once, and the figures computed from it equal those computed from the files."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from liveops.analytics import digest as digests
from liveops.analytics.engine import Engine, open_engine
from liveops.analytics.runner import compute_session
from liveops.analytics.tests.test_parity import DURATION_S, START, _session, _write

#: Sort keys making each table's row order canonical.
KEYS = {
    "viewers": ["viewer_id"],
    "seconds": ["second"],
    "sources": ["second", "source"],
    "commerce": ["ts_ms", "viewer_id", "kind", "product_id", "amount"],
    "snapshots": ["ts_ms", "online"],
    "visits": ["viewer_id", "ts_ms", "is_leave"],
    "pairs": ["viewer_id", "leave_ms", "enter_ms"],
    "questions": ["ts_ms", "viewer_id"],
    "host": ["ts_ms"],
}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with open_engine("duckdb") as e:
        yield e


def _canonical(digest: digests.Digest) -> dict[str, list[dict[str, object]]]:
    return {
        name: table.sort_by([(k, "ascending") for k in KEYS[name]]).to_pylist()
        for name, table in digest.tables.items()
    }


def _pieces(root: Path, seed: int, parts: int) -> tuple[list[str], list[list[str]]]:
    """A generated session's files, and the same events shuffled into ``parts`` files."""
    whole = _write(root / "whole", 2, _session(seed, START, 150))
    table = pq.read_table(whole)
    order = list(range(table.num_rows))
    random.Random(seed).shuffle(order)  # events arrive late and out of order
    cuts = sorted(random.Random(seed + 1).sample(range(1, table.num_rows), parts - 1))
    folder = root / "pieces" / "workspace_id=1" / "session_id=2"
    folder.mkdir(parents=True)
    files = []
    for i, (lo, hi) in enumerate(zip([0, *cuts], [*cuts, table.num_rows], strict=True)):
        path = folder / f"part-{i}.parquet"
        pq.write_table(table.take(pa.array(order[lo:hi])), path)
        files.append([str(path)])
    return whole, files


@pytest.mark.parametrize("seed,parts", [(1, 2), (2, 5), (3, 12)])
def test_a_digest_advanced_piece_by_piece_equals_the_digest_of_everything(
    engine: Engine, tmp_path: Path, seed: int, parts: int
) -> None:
    whole, pieces = _pieces(tmp_path, seed, parts)
    at_once = digests.build(engine, whole)
    step = digests.build(engine, pieces[0], version=0)
    for version, files in enumerate(pieces[1:], start=1):
        step = digests.advance(engine, step, files, version=version)
    assert step.version == parts - 1
    assert (
        step.events
        == at_once.events
        == pq.read_metadata(whole[0]).num_rows
        + sum(pq.read_metadata(f).num_rows for f in whole[1:])
    )
    assert _canonical(step) == _canonical(at_once)
    # stored and read back, it is the same digest, and the figures are those of the files
    digests.save(step, tmp_path / "digest")
    loaded = digests.load(tmp_path / "digest")
    assert loaded is not None and _canonical(loaded) == _canonical(step)
    end = START + timedelta(seconds=DURATION_S)
    for start_end in ((START, end), (START + timedelta(minutes=3), end - timedelta(minutes=4))):
        # the second window leaves events outside it on both sides
        kwargs = {"start": start_end[0], "end": start_end[1], "currency": "CNY"}
        from_files = compute_session(engine, events_files=whole, **kwargs)
        from_digest = compute_session(engine, events_files=whole, digest=loaded, **kwargs)
        assert from_digest == from_files


def test_a_digest_of_another_format_or_missing_is_not_loaded(
    engine: Engine, tmp_path: Path
) -> None:
    assert digests.load(tmp_path / "none") is None
    digests.save(digests.empty(), tmp_path / "d")
    manifest = tmp_path / "d" / "manifest.json"
    old = f'"format": {digests.FORMAT}'
    assert old in manifest.read_text()
    manifest.write_text(manifest.read_text().replace(old, '"format": 0'))
    assert digests.load(tmp_path / "d") is None
