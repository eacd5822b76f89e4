"""Platform exports as tables: CSV (format ``csv``) and Excel (format ``xlsx``).

A table holds either **events** (one row per comment, order, gift …) or **per-minute
statistics** (one row per minute: online, entries, comments, GMV …, as 抖音罗盘 / 视频号 /
淘宝直播 exports them). A column mapping says which column is which:

``options``
    ``target``       ``"events"`` or ``"minute_stats"`` (default: guessed from the headers)
    ``mapping``      ``{canonical field: source header}``; default :func:`suggest_mapping`
    ``time_zone``    IANA name (``"Asia/Shanghai"``) for times without an offset — required
                     when the file has such times (LiveOps never guesses a zone)
    ``date``         ``"YYYY-MM-DD"`` for a time column holding only times (``20:01``);
                     times that go backwards by more than 12 h roll over to the next day
    ``start``        the live's start, for a minute column holding minute numbers (1, 2, …)
    ``default_kind`` kind for event rows without a kind column / with an empty kind cell
    ``kind_values``  extra ``{cell text: kind}`` (e.g. ``{"打赏": "gift"}``)
    ``platform``, ``currency``  defaults for rows that name none
    ``header_row``   1-based row of the header (default: found among the first 30 rows —
                     exports often start with a title line)
    ``encoding``, ``delimiter`` (CSV), ``sheet`` (XLSX) — override the detection

Records: events use the canonical field names (``ts``, ``kind``, ``viewer_id`` …); minute
statistics use the ``MinuteStat`` names (``minute``, ``online``, ``entries``, ``exits``,
``comments``, ``likes``, ``new_follows``, ``shares``, ``orders``, ``gmv``, ``impressions``)
with ``fields["_target"] = "minute_stats"``; unmapped columns of a minute row go to
``fields["extra"]`` (numbers parsed as below, else the text). ``minute`` is floored to the
minute and written as ISO-8601 with its offset.

Rows: ``row N`` is the spreadsheet row number (the header is row 1 when it is the first
line), as Excel/WPS show it. Rows above the header (titles, notes) are Skipped; entirely
empty rows are not records; a totals row (first cell 合计/总计/汇总/Total) is Skipped. A
bad cell makes the row a Problem naming the row, the column and the fix, e.g. ``row 7,
column 成交金额: “abc” is not a number; write it as 1234, 1,234, 1.2万 or 12.5%``.

Numbers (:func:`parse_number`): ``1234``, ``1,234`` (comma as thousands separator only —
``1,2`` is refused, never read as 1.2), ``1.2万`` = 12000, ``3亿`` = 300000000, ``1.2k`` /
``1.2w`` / ``2M`` (case-insensitive), ``12.5%`` = 0.125 (a fraction, as LiveOps stores rates),
full-width digits, a leading currency sign (¥ ￥ $ € £, CNY, RMB, USD) or a trailing unit
(元 人 次 个 单 件 条). Empty, ``-``, ``--``, ``—``, ``/``, ``N/A``, ``无`` and ``暂无``
mean "no value". Counts must be whole and not negative (``1.23456万`` is refused, never
rounded). Excel floats are read at Excel's 15 significant digits.

Times: ISO-8601 (``2024-05-01T20:01:00+08:00``), ``2024-05-01 20:01[:05]``,
``2024/5/1 20:01``, ``2024年5月1日 20:01``, Excel date cells, epoch numbers (s / ms by
magnitude), time-only cells with ``date``, minute numbers with ``start``. A time without
an offset needs ``time_zone``: when the first data row has one and no zone was given, the
whole file is refused (:class:`ImportFormatError`) saying so.

CSV: the encoding is UTF-8 (with or without BOM), UTF-16 (with BOM, Excel's "Unicode
text") or GB18030 (the superset of GBK/GB2312 that Chinese Excel/WPS exports use), told
from the first 64 KiB; the delimiter (``,`` tab ``;`` ``|``) by :class:`csv.Sniffer` on
the same bytes. Rows are streamed (memory stays flat); a cell larger than the ``csv``
module's 128 KiB field limit stops the import with the row named.

XLSX: openpyxl in read-only streaming mode (``defusedxml`` guards the XML), first
worksheet unless ``sheet`` names one, after :func:`safety.check_zip` (zip-bomb guard).
A non-seekable stream (e.g. decompressed on the fly) is spooled to a temporary file first.
openpyxl keeps the workbook's shared-string table in memory; the zip guard bounds it.

Identical rows (same cells) without an id column are told apart by the pipeline's repeat
counter; map an id column (订单号 …) when the export has one.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import IO, Any, BinaryIO, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from liveops.events.schema import KINDS

from .base import ImportFormatError, Item, Problem, Record, Skipped
from .safety import HEAD_BYTES, check_zip, epoch_to_ms, prepend_head, read_head, sniff_content

__all__ = [
    "EVENT_FIELDS",
    "KIND_VALUES",
    "MINUTE_FIELDS",
    "CsvImporter",
    "NumberError",
    "XlsxImporter",
    "detect_encoding",
    "guess_target",
    "normalize_header",
    "parse_number",
    "suggest_mapping",
]

EVENT_FIELDS: Final = (
    "event_id",
    "ts",
    "kind",
    "viewer_id",
    "viewer_name",
    "text",
    "quantity",
    "amount",
    "currency",
    "product_id",
    "source",
    "platform",
)
MINUTE_INT_FIELDS: Final = (
    "online",
    "entries",
    "exits",
    "comments",
    "likes",
    "new_follows",
    "shares",
    "orders",
    "impressions",
)
MINUTE_FIELDS: Final = ("minute", *MINUTE_INT_FIELDS, "gmv", "platform")
TARGETS: Final = ("events", "minute_stats")
# fmt: off
#: Header aliases per field, best first (compared after :func:`normalize_header`).
_EVENT_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "ts": (
        "时间", "发生时间", "事件时间", "时间戳", "创建时间", "发送时间", "评论时间", "下单时间",
        "支付时间", "进入时间", "时间点", "日期时间", "timestamp", "time", "datetime", "ts",
        "eventtime", "createdat", "date",
    ),
    "kind": (
        "类型", "事件类型", "行为", "行为类型", "动作", "互动类型", "消息类型", "kind", "type",
        "eventtype", "event", "action",
    ),
    "viewer_id": (
        "用户id", "uid", "用户编号", "观众id", "买家id", "抖音号", "快手号", "viewerid", "userid",
        "authorid", "buyerid",
    ),
    "viewer_name": (
        "昵称", "用户昵称", "用户名", "用户名称", "观众昵称", "买家昵称", "viewername",
        "username", "nickname", "displayname", "author", "name",
    ),
    "text": (
        "内容", "弹幕内容", "评论内容", "消息内容", "弹幕", "评论", "消息", "留言", "text",
        "comment", "message", "content", "body",
    ),
    "quantity": (
        "数量", "个数", "件数", "购买数量", "商品数量", "礼物数量", "quantity", "qty", "count",
        "number",
    ),
    "amount": (
        "金额", "订单金额", "支付金额", "实付金额", "成交金额", "礼物价值", "价格", "amount",
        "value", "price", "total", "orderamount",
    ),
    "currency": ("币种", "货币", "currency"),
    "product_id": ("商品id", "商品编号", "商品", "skuid", "sku", "productid", "product", "itemid"),
    "source": ("流量来源", "来源", "渠道", "推广渠道", "source", "trafficsource", "channel"),
    "platform": ("平台", "platform"),
    "event_id": (
        "事件id", "订单号", "订单编号", "订单id", "消息id", "eventid", "orderid", "messageid", "id",
    ),
}
_MINUTE_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "minute": (
        "时间", "时间点", "分钟", "日期时间", "统计时间", "时间段", "minute", "time", "timestamp",
        "datetime", "date",
    ),
    "online": (
        "在线人数", "实时在线人数", "实时在线", "当前在线人数", "在线用户数", "在线观众数",
        "online", "onlineviewers", "onlinecount", "concurrentviewers", "viewers", "ccu",
    ),
    "entries": (
        "进入人数", "进入直播间人数", "进房人数", "进场人数", "进入次数", "进房次数", "entries",
        "enters", "joins", "entered",
    ),
    "exits": ("离开人数", "离开直播间人数", "离场人数", "退出人数", "exits", "leaves", "left"),
    "comments": (
        "评论数", "评论次数", "弹幕数", "评论条数", "comments", "chatmessages", "messages",
    ),
    "likes": ("点赞数", "点赞次数", "点赞量", "likes"),
    "new_follows": (
        "新增粉丝", "新增粉丝数", "新增关注", "新增关注数", "新增关注人数", "新加关注", "涨粉",
        "涨粉数", "newfollowers", "newfollows", "followersgained", "follows",
    ),
    "shares": ("分享次数", "分享数", "分享人数", "shares"),
    "orders": ("成交订单数", "订单数", "成交订单", "成交单数", "orders", "ordercount"),
    "gmv": (
        "成交金额", "gmv", "成交额", "直播间成交金额", "销售额", "支付金额", "sales", "revenue",
    ),
    "impressions": (
        "曝光人数", "直播间曝光人数", "曝光次数", "直播间曝光次数", "曝光量", "曝光",
        "impressions", "exposure", "reach",
    ),
    "platform": ("平台", "platform"),
}

#: Headers containing one of these are never matched by substring (rates, averages,
#: fan-club counts, durations look like counts but are not).
_NOT_BY_SUBSTRING: Final = (
    "率", "粉丝团", "人均", "平均", "占比", "时长", "停留", "rate", "avg", "average",
    "duration", "%",
)

#: Cell text → kind (compared lower-cased, without spaces, underscores or dashes).
KIND_VALUES: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("进入", "进场", "进入直播间", "进房", "来了", "enter", "join", "joined", "entry"), "enter"
    ),
    **dict.fromkeys(
        ("离开", "离场", "退出", "离开直播间", "leave", "left", "exit", "part"), "leave"
    ),
    **dict.fromkeys(
        ("评论", "弹幕", "聊天", "发言", "comment", "chat", "message", "danmaku"), "comment"
    ),
    **dict.fromkeys(("点赞", "like", "likes"), "like"),
    **dict.fromkeys(("礼物", "送礼", "打赏", "gift", "donation", "tip"), "gift"),
    **dict.fromkeys(("关注", "新增关注", "follow", "followed"), "follow"),
    **dict.fromkeys(("分享", "share", "shared"), "share"),
    **dict.fromkeys(("下单", "订单", "成交", "购买", "支付", "order", "purchase", "paid"), "order"),
    **dict.fromkeys(("退款", "refund", "refunded"), "refund"),
    **dict.fromkeys(("商品点击", "点击商品", "点击", "productclick", "click"), "product_click"),
    **dict.fromkeys(("在线人数", "在线", "online", "onlinecount", "viewercount"), "online_count"),
    **{kind.replace("_", ""): kind for kind in KINDS},
}
# fmt: on

_TOTAL_WORDS: Final = frozenset({"合计", "总计", "汇总", "总和", "total", "totals", "sum"})
_EMPTY_WORDS: Final = frozenset(
    {"", "-", "--", "—", "——", "/", "n/a", "na", "null", "none", "nan", "无", "暂无"}
)
_MULTIPLIERS: Final[dict[str, int]] = {
    "万": 10_000,
    "w": 10_000,
    "亿": 100_000_000,
    "千": 1_000,
    "k": 1_000,
    "m": 1_000_000,
}
_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PLAIN_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_GROUPED_RE: Final = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_CURRENCY_PREFIX_RE: Final = re.compile(r"^(?:[¥$€£]|cny|rmb|usd)\s*", re.IGNORECASE)
_UNIT_SUFFIX_RE: Final = re.compile(r"\s*(?:元|人|次|个|单|件|条|cny|rmb)$", re.IGNORECASE)
_DATETIME_RE: Final = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<h>\d{1,2})\s*[:时]\s*(?P<mi>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<s>\d{1,2})(?:[.,](?P<f>\d{1,9}))?\s*秒?)?\s*分?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?",
    re.IGNORECASE,
)
_TIME_RE: Final = re.compile(
    r"(?P<h>\d{1,2})\s*[:时]\s*(?P<mi>\d{2})(?:\s*[:分]\s*(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*[秒分]?"
)


# --------------------------------------------------------------------------------------------
# Headers and mapping
# --------------------------------------------------------------------------------------------


def normalize_header(header: Any) -> str:
    """A header as matched: NFKC, lower case, bracketed units (``(元)``, ``（人）``) and
    spaces / underscores / dashes / colons removed."""
    text = unicodedata.normalize("NFKC", "" if header is None else str(header)).strip().lower()
    text = re.sub(r"[(\[【].*?[)\]】]", "", text)
    return re.sub(r"[\s_\-:/.·]+", "", text)


def _normalized_aliases(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {field: tuple(normalize_header(a) for a in names) for field, names in aliases.items()}


_EVENT_NORM: Final = _normalized_aliases(_EVENT_ALIASES)
_MINUTE_NORM: Final = _normalized_aliases(_MINUTE_ALIASES)
_EVENT_ONLY: Final = ("kind", "viewer_id", "viewer_name", "text", "product_id", "event_id")


def guess_target(headers: Iterable[Any]) -> str:
    """``"events"`` when the headers name per-event columns (type, user, content, product),
    ``"minute_stats"`` when they name per-minute counts, else ``"events"``."""
    normed = [normalize_header(h) for h in headers]
    names = {n for n in normed if n}
    if any(alias in names for field in _EVENT_ONLY for alias in _EVENT_NORM[field]):
        return "events"
    counts = [f for f in _MINUTE_NORM if f not in ("minute", "platform")]
    if any(alias in names for field in counts for alias in _MINUTE_NORM[field]):
        return "minute_stats"
    if _match(normed, {f: _MINUTE_NORM[f] for f in counts}):
        return "minute_stats"
    return "events"


def _match(normed: list[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """field → header index: exact alias matches first (alias order = priority), then
    substring matches for aliases of 2+ CJK / 4+ Latin characters."""
    found: dict[str, int] = {}
    used: set[int] = set()
    for field, names in aliases.items():
        for name in names:
            index = next((i for i, h in enumerate(normed) if h == name and i not in used), None)
            if index is not None:
                found[field] = index
                used.add(index)
                break
    for field, names in aliases.items():
        if field in found:
            continue
        for name in names:
            if len(name) < (4 if name.isascii() else 2):
                continue
            index = next(
                (
                    i
                    for i, h in enumerate(normed)
                    if i not in used
                    and name in h
                    and not any(bad in h for bad in _NOT_BY_SUBSTRING)
                ),
                None,
            )
            if index is not None:
                found[field] = index
                used.add(index)
                break
    return found


def suggest_mapping(headers: Iterable[Any], *, target: str | None = None) -> dict[str, str]:
    """``{canonical field: header}`` for the headers this module recognises.

    Chinese and English platform headers are known (时间/时间点/分钟, 在线人数/实时在线人数,
    进入人数, 离开人数, 评论数/评论次数, 点赞数, 新增粉丝/新增关注, 分享次数, 成交订单数,
    成交金额/GMV, 曝光人数/曝光次数, 用户ID, 昵称, 内容/弹幕内容, 类型/事件类型, 数量, 金额,
    商品ID, 来源 …; units in brackets are ignored: ``成交金额(元)``). ``target`` picks the
    field names (events or minute_stats); by default it is :func:`guess_target`'s guess.
    """
    header_list = ["" if h is None else str(h).strip() for h in headers]
    chosen = target or guess_target(header_list)
    aliases = _MINUTE_NORM if chosen == "minute_stats" else _EVENT_NORM
    normed = [normalize_header(h) for h in header_list]
    found = _match(normed, aliases)
    return {field: header_list[index] for field, index in sorted(found.items(), key=lambda x: x[1])}


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


class NumberError(ValueError):
    """A cell is not a number :func:`parse_number` can read."""


def _float_decimal(value: float) -> Decimal:
    number = Decimal(repr(value))
    if len(number.as_tuple().digits) > 15:  # Excel keeps 15 significant digits
        number = Decimal(format(value, ".15g"))
    return number


def parse_number(value: Any) -> Decimal | None:
    """A cell → an exact Decimal, or None for "no value" (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberError("a yes/no value is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NumberError("not a finite number")
        return _float_decimal(value)
    if not isinstance(value, str):
        raise NumberError(f"a {type(value).__name__} is not a number")
    if _PLAIN_RE.fullmatch(value):
        return Decimal(value)
    text = unicodedata.normalize("NFKC", value).strip()
    if text.lower() in _EMPTY_WORDS:
        return None
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    text = _CURRENCY_PREFIX_RE.sub("", text)
    text = _UNIT_SUFFIX_RE.sub("", text)
    multiplier = 1
    if text and text[-1].lower() in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[text[-1].lower()]
        text = text[:-1].strip()
    text = text.replace(" ", "").replace("'", "")
    if "," in text:
        if not _GROUPED_RE.fullmatch(text):
            raise NumberError("commas must group thousands (1,234)")
        text = text.replace(",", "")
    if not _NUMBER_RE.fullmatch(text):
        raise NumberError("not a number")
    try:
        number = Decimal(text) * multiplier
    except InvalidOperation:  # pragma: no cover - the regex lets only numbers through
        raise NumberError("not a number") from None
    if percent:
        number = number / 100
    return number


def _decimal_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------


class _NaiveTime(Exception):
    """A time without offset and no time_zone option."""


class _NoDate(Exception):
    """A time-only cell and no date option."""


class _Clock:
    """Turns time cells into aware datetimes (or epoch ms) following the options."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.zone = _zone(opts.get("time_zone"))
        self.date = _date_option(opts.get("date"))
        self.start = self._start(opts.get("start"))
        self.day_offset = 0
        self.last_time: time | None = None

    def _start(self, value: Any) -> datetime | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            start = value
        else:
            try:
                start = datetime.fromisoformat(str(value).strip())
            except ValueError:
                raise ImportFormatError(
                    f"start {value!r} is not an ISO date-time; "
                    "write e.g. 2024-05-01T20:00:00+08:00."
                ) from None
        return self.aware(start)

    def aware(self, value: datetime) -> datetime:
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value
        if self.zone is None:
            raise _NaiveTime
        return value.replace(tzinfo=self.zone)

    def with_date(self, value: time) -> datetime:
        if self.date is None:
            raise _NoDate
        if self.last_time is not None:
            back = datetime.combine(date.min, self.last_time) - datetime.combine(date.min, value)
            if back > timedelta(hours=12):
                self.day_offset += 1
        self.last_time = value
        day = self.date + timedelta(days=self.day_offset)
        return self.aware(datetime.combine(day, value.replace(tzinfo=None)))

    def parse(self, value: Any) -> datetime | int | None:
        """None when empty; raises ValueError (unreadable), _NaiveTime, _NoDate."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return self.aware(value)
        if isinstance(value, date):
            return self.aware(datetime.combine(value, time()))
        if isinstance(value, time):
            return self.with_date(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._number(Decimal(str(value)))
        if not isinstance(value, str):
            raise ValueError("not a time")
        text = value.strip()
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
        if text.lower() in _EMPTY_WORDS:
            return None
        if _NUMBER_RE.fullmatch(text):
            return self._number(Decimal(text))
        if len(text) >= 10 and text[4:5] == "-" and text.isascii():
            try:  # the common ISO shapes, in C
                return self.aware(datetime.fromisoformat(text))
            except ValueError:
                pass
        match = _DATETIME_RE.fullmatch(text)
        if match:
            return self._from_match(match)
        match = _TIME_RE.fullmatch(text)
        if match:
            return self.with_date(_time_of(match))
        try:
            return self.aware(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError("not a date-time") from None

    def _number(self, number: Decimal) -> datetime | int:
        if self.start is not None and 0 <= number < 100_000 and number == number.to_integral():
            return self.start + timedelta(minutes=int(number))
        ms = epoch_to_ms(number) if number >= Decimal("1e8") else None
        if ms is None:
            raise ValueError("a small number is not a time (minute numbers need the start option)")
        return ms

    def _from_match(self, match: re.Match[str]) -> datetime:
        parts = match.groupdict()
        fraction = (parts["f"] or "0")[:6].ljust(6, "0")
        moment = datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"] or 0),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int(fraction),
        )
        zone = parts["tz"]
        if zone:
            if zone.upper() in ("Z", "UTC", "GMT"):
                return moment.replace(tzinfo=UTC)
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            from datetime import timezone

            return moment.replace(tzinfo=timezone(sign * offset))
        return self.aware(moment)


def _time_of(match: re.Match[str]) -> time:
    parts = match.groupdict()
    fraction = (parts["f"] or "0")[:6].ljust(6, "0")
    return time(int(parts["h"]), int(parts["mi"]), int(parts["s"] or 0), int(fraction))


def _zone(name: Any) -> tzinfo | None:
    if name in (None, ""):
        return None
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFormatError(
            f"time zone {name!r} is unknown; use an IANA name such as Asia/Shanghai or UTC."
        ) from None


def _date_option(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ImportFormatError(f"date {value!r} is not a date; write it as YYYY-MM-DD.") from None


# --------------------------------------------------------------------------------------------
# The table → items
# --------------------------------------------------------------------------------------------


class _CellError(Exception):
    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


def _cell_text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _id_text(value: Any) -> str | None:
    """Ids: Excel numbers without ``.0``; ``'123`` / ``="123"`` / tab-prefixed text unwrapped."""
    text = _cell_text(value)
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    text = text.lstrip("'\t").strip()
    return text or None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value != value:
        return None
    return value


def _raw(headers: list[str], row: list[Any]) -> str:
    if len(row) == len(headers) and all(type(c) is str for c in row):  # CSV: all text
        return orjson.dumps(dict(zip(headers, row, strict=True))).decode()
    record = {h: _jsonable(row[i]) if i < len(row) else None for i, h in enumerate(headers)}
    for i in range(len(headers), len(row)):
        if row[i] not in (None, ""):
            record[f"column {i + 1}"] = _jsonable(row[i])
    return orjson.dumps(record, default=str).decode()


def _headers_of(row: list[Any]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(row):
        text = _cell_text(cell) or f"column {i + 1}"
        n = seen.get(text, 0) + 1
        seen[text] = n
        headers.append(text if n == 1 else f"{text} ({n})")
    return headers


def _is_empty(row: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def _looks_like_header(row: list[Any], opts: Mapping[str, Any]) -> bool:
    cells = [_cell_text(c) for c in row]
    texts = {c for c in cells if c}
    mapping = opts.get("mapping")
    if isinstance(mapping, Mapping) and mapping:
        return all(str(h).strip() in texts for h in mapping.values())
    if any(not isinstance(c, str) for c in row if c is not None):
        return False  # a header row is text only
    found = suggest_mapping(cells, target=opts.get("target"))
    return len(found) >= 2 and bool({"ts", "minute"} & found.keys())


class _Table:
    """Turns (row number, cells) into items following the options."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.opts = opts
        target = opts.get("target")
        if target not in (None, "", *TARGETS):
            raise ImportFormatError(
                f"target {target!r} is unknown; use 'events' or 'minute_stats'."
            )
        self.target: str | None = target or None
        self.clock = _Clock(opts)
        kind_values = opts.get("kind_values") or {}
        self.kind_values = {**KIND_VALUES}
        for text, kind in dict(kind_values).items():
            if kind not in KINDS:
                raise ImportFormatError(
                    f"kind_values maps {text!r} to {kind!r}, which is not a kind; use one of "
                    f"{', '.join(sorted(KINDS))}."
                )
            self.kind_values[_kind_key(str(text))] = kind
        default_kind = opts.get("default_kind")
        if default_kind not in (None, "") and default_kind not in KINDS:
            raise ImportFormatError(
                f"default_kind {default_kind!r} is not a kind; use one of "
                f"{', '.join(sorted(KINDS))}."
            )
        self.default_kind: str | None = default_kind or None
        self.kind_cache: dict[str, str] = {}
        self.platform = opts.get("platform") or None
        self.currency = opts.get("currency") or None
        self.seen_data = False

    # -- header ------------------------------------------------------------------------------

    def items(self, rows: Iterator[tuple[int, list[Any]]]) -> Iterator[Item]:
        header_row = self.opts.get("header_row")
        if header_row not in (None, "") and (
            isinstance(header_row, bool)
            or not str(header_row).isdigit()
            or not 1 <= int(header_row) <= 1000
        ):
            raise ImportFormatError(
                f"header_row {header_row!r} must be a row number from 1 to 1000."
            )
        buffered: list[tuple[int, list[Any]]] = []
        header_at: int | None = None
        for number, row in rows:
            buffered.append((number, row))
            if header_row:
                if number == int(header_row):
                    header_at = len(buffered) - 1
                    break
            elif not _is_empty(row) and _looks_like_header(row, self.opts):
                header_at = len(buffered) - 1
                break
            if len(buffered) >= 30 and not header_row:
                break
        if header_at is None:
            if header_row:
                raise ImportFormatError(
                    f"the file has fewer than {header_row} rows; header_row is wrong."
                )
            header_at = next(
                (i for i, (_, r) in enumerate(buffered) if sum(1 for c in r if c) >= 2),
                next((i for i, (_, r) in enumerate(buffered) if not _is_empty(r)), -1),
            )
            if header_at < 0:
                return  # an empty table: no records
        header_number, header_cells = buffered[header_at]
        for number, row in buffered[:header_at]:
            if not _is_empty(row):
                yield Skipped(
                    f"row {number}",
                    "above the header row (title or notes)",
                    orjson.dumps([_jsonable(c) for c in row], default=str).decode(),
                )
        headers = _headers_of(header_cells)
        self._set_mapping(headers, header_number)

        def rest() -> Iterator[tuple[int, list[Any]]]:
            yield from buffered[header_at + 1 :]
            yield from rows

        for number, row in rest():
            if _is_empty(row):
                continue
            yield self._row(number, row, headers)

    def _set_mapping(self, headers: list[str], header_number: int) -> None:
        target = self.target or guess_target(headers)
        self.target = target
        mapping = self.opts.get("mapping")
        allowed = EVENT_FIELDS if target == "events" else MINUTE_FIELDS
        if isinstance(mapping, Mapping) and mapping:
            chosen = {str(k): str(v).strip() for k, v in mapping.items() if v not in (None, "")}
            for field, header in chosen.items():
                if field not in allowed:
                    raise ImportFormatError(
                        f"mapping names the field {field!r}, which {target} do not have; "
                        f"fields: {', '.join(allowed)}."
                    )
                if header not in headers:
                    raise ImportFormatError(
                        f"mapping: column “{header}” (for {field}) is not in the header row "
                        f"(row {header_number}); the columns are: {_list(headers)}."
                    )
        else:
            chosen = suggest_mapping(headers, target=target)
        self.columns = {field: headers.index(header) for field, header in chosen.items()}
        self.headers = headers
        time_field = "ts" if target == "events" else "minute"
        if time_field not in self.columns:
            raise ImportFormatError(
                f"no time column found for {target} (row {header_number} has: "
                f'{_list(headers)}); map one, e.g. mapping {{"{time_field}": "时间"}}.'
            )
        if target == "events" and "kind" not in self.columns and self.default_kind is None:
            raise ImportFormatError(
                "no event type column (类型/事件类型/kind) found; map one or give "
                "default_kind (e.g. comment for a comment export)."
            )

    # -- rows --------------------------------------------------------------------------------

    def _row(self, number: int, row: list[Any], headers: list[str]) -> Item:
        location = f"row {number}"
        raw = _raw(headers, row)
        first = next((_cell_text(c) for c in row if _cell_text(c)), "")
        if len(first) <= 10 and normalize_header(first) in _TOTAL_WORDS:
            return Skipped(location, "totals row", raw)
        try:
            if self.target == "minute_stats":
                fields = self._minute_fields(number, row)
            else:
                fields = self._event_fields(number, row)
        except _CellError as exc:
            return Problem(location, exc.code, exc.field, exc.message, raw)
        finally:
            self.seen_data = True
        return Record(location, fields, raw)

    def _cell(self, row: list[Any], field: str) -> Any:
        index = self.columns.get(field)
        if index is None or index >= len(row):
            return None
        return row[index]

    def _where(self, number: int, field: str) -> str:
        return f"row {number}, column {self.headers[self.columns[field]]}"

    def _time(self, number: int, row: list[Any], field: str) -> datetime | int:
        value = self._cell(row, field)
        where = self._where(number, field)
        shown = _cell_text(value)
        try:
            moment = self.clock.parse(value)
        except _NaiveTime:
            message = (
                f"{where}: “{shown}” has no time zone; give the time zone the export uses "
                "(time_zone, e.g. Asia/Shanghai for Chinese platforms)."
            )
            if not self.seen_data:
                raise ImportFormatError(message) from None
            raise _CellError("bad_timestamp", field, message) from None
        except _NoDate:
            message = (
                f"{where}: “{shown}” is a time without a date; give the live's date "
                "(date = YYYY-MM-DD)."
            )
            if not self.seen_data:
                raise ImportFormatError(message) from None
            raise _CellError("bad_timestamp", field, message) from None
        except (ValueError, OverflowError, InvalidOperation):
            raise _CellError(
                "bad_timestamp",
                field,
                f"{where}: “{shown}” is not a date-time; write it like 2024-05-01 20:01:00 "
                "or 2024-05-01T20:01:00+08:00.",
            ) from None
        if moment is None:
            raise _CellError("missing_field", field, f"{where} is empty; every row needs a time.")
        return moment

    def _number(self, number: int, row: list[Any], field: str) -> Decimal | None:
        value = self._cell(row, field)
        try:
            return parse_number(value)
        except NumberError as exc:
            raise _CellError(
                "bad_type",
                field,
                f"{self._where(number, field)}: “{_cell_text(value)}” is not a number"
                f"{'' if str(exc) == 'not a number' else f' ({exc})'}; "
                "write it as 1234, 1,234, 1.2万 or 12.5%.",
            ) from None

    def _count(self, number: int, row: list[Any], field: str) -> int | None:
        value = self._number(number, row, field)
        if value is None:
            return None
        where = self._where(number, field)
        shown = _cell_text(self._cell(row, field))
        if value != value.to_integral_value():
            raise _CellError(
                "bad_type", field, f"{where}: “{shown}” is not a whole number ({value})."
            )
        if value < 0:
            raise _CellError("bad_quantity", field, f"{where}: “{shown}” is negative.")
        return int(value)

    def _money(self, number: int, row: list[Any], field: str, places: int) -> str | None:
        value = self._number(number, row, field)
        if value is None:
            return None
        where = self._where(number, field)
        shown = _cell_text(self._cell(row, field))
        if value < 0:
            raise _CellError(
                "negative_amount",
                field,
                f"{where}: “{shown}” is negative; refunds are rows of kind refund with a "
                "positive amount.",
            )
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise _CellError(
                "bad_amount",
                field,
                f"{where}: “{shown}” has more than {places} decimal places; round it in the "
                "export (amounts are stored exactly, never rounded).",
            )
        return _decimal_text(value)

    def _text(self, row: list[Any], field: str) -> str | None:
        value = self._cell(row, field)
        text = _cell_text(value)
        return text or None

    def _event_fields(self, number: int, row: list[Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        moment = self._time(number, row, "ts")
        fields["ts"] = moment.isoformat() if isinstance(moment, datetime) else moment
        kind = self.default_kind
        if "kind" in self.columns:
            text = self._text(row, "kind")
            if text:
                kind = self.kind_cache.get(text)
                if kind is None:
                    kind = self.kind_values.get(_kind_key(text))
                    if kind is not None and len(self.kind_cache) < 1000:
                        self.kind_cache[text] = kind
                if kind is None:
                    raise _CellError(
                        "bad_kind",
                        "kind",
                        f"{self._where(number, 'kind')}: “{text}” is not a known event type; "
                        f"use one of {', '.join(sorted(KINDS))} (or 进入, 评论, 点赞, 礼物, "
                        "关注, 分享, 下单, 退款 …), or map it with kind_values.",
                    )
        if kind is None:
            raise _CellError(
                "missing_field",
                "kind",
                f"{self._where(number, 'kind')} is empty; fill it or give default_kind.",
            )
        fields["kind"] = kind
        for field in ("event_id", "viewer_id", "product_id"):
            if field in self.columns:
                ident = _id_text(self._cell(row, field))
                if ident:
                    fields[field] = ident
        for field in ("viewer_name", "source", "platform"):
            if field in self.columns:
                text = self._text(row, field)
                if text:
                    fields[field] = text
        if "text" in self.columns:
            value = self._cell(row, "text")
            text = value if isinstance(value, str) else _cell_text(value)
            if text or (kind == "comment" and value is not None):
                fields["text"] = text  # an empty comment (a sticker) stays a comment
        if "quantity" in self.columns:
            quantity = self._count(number, row, "quantity")
            if quantity is not None:
                fields["quantity"] = quantity
        if "amount" in self.columns:
            amount = self._money(number, row, "amount", 4)
            if amount is not None:
                fields["amount"] = amount
        if "currency" in self.columns:
            currency = self._text(row, "currency")
            if currency:
                fields["currency"] = currency.upper()
        if "amount" in fields and "currency" not in fields and self.currency:
            fields["currency"] = self.currency
        if "platform" not in fields and self.platform:
            fields["platform"] = self.platform
        return fields

    def _minute_fields(self, number: int, row: list[Any]) -> dict[str, Any]:
        moment = self._time(number, row, "minute")
        if isinstance(moment, int):
            moment = datetime.fromtimestamp(moment / 1000, tz=UTC)
        moment = moment.replace(second=0, microsecond=0)
        fields: dict[str, Any] = {"_target": "minute_stats", "minute": moment.isoformat()}
        for field in MINUTE_INT_FIELDS:
            if field in self.columns:
                count = self._count(number, row, field)
                if count is not None:
                    fields[field] = count
        if "gmv" in self.columns:
            gmv = self._money(number, row, "gmv", 2)
            if gmv is not None:
                fields["gmv"] = gmv
        platform = self._text(row, "platform") if "platform" in self.columns else None
        if platform or self.platform:
            fields["platform"] = platform or self.platform
        mapped = set(self.columns.values())
        extra: dict[str, Any] = {}
        for index, header in enumerate(self.headers):
            if index in mapped or index >= len(row) or row[index] in (None, ""):
                continue
            extra[header] = _extra_value(row[index])
        if extra:
            fields["extra"] = extra
        return fields


def _extra_value(value: Any) -> Any:
    try:
        number = parse_number(value)
    except NumberError:
        return _jsonable(value) if not isinstance(value, str) else value.strip()
    if number is None:
        return None
    if number == number.to_integral_value():
        return int(number)
    return _decimal_text(number)


def _kind_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text).strip().lower())


def _list(headers: list[str]) -> str:
    shown = ", ".join(f"“{h}”" for h in headers[:40])
    return shown + (f" … ({len(headers)} columns)" if len(headers) > 40 else "")


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """UTF-8 (BOM → ``utf-8-sig``), UTF-16 with BOM, else GB18030; from the first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for name in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(name)("strict").decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return name
    raise ImportFormatError(
        "the file's text encoding is neither UTF-8 nor GB18030/GBK; save it as "
        "“CSV UTF-8” in Excel/WPS (or give the encoding option)."
    )


def _decode_sample(head: bytes, encoding: str) -> str:
    """The head as text for sniffing (a cut last character is dropped)."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    return decoder.decode(head, final=False).lstrip("\ufeff")


def _sniff_delimiter(sample: str) -> str:
    cut = sample.rfind("\n")
    sample = sample[: cut + 1] if cut > 0 else sample
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    first = lines[0]
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ""
    if delimiter and delimiter in first:
        return delimiter
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(stream: BinaryIO, opts: Mapping[str, Any]) -> Iterator[tuple[int, list[Any]]]:
    head = read_head(stream, HEAD_BYTES)
    encoding = str(opts.get("encoding") or detect_encoding(head))
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportFormatError(
            f"encoding {encoding!r} is unknown; try utf-8 or gb18030."
        ) from None
    delimiter = opts.get("delimiter")
    if not delimiter:
        sample = head.decode(
            encoding.replace("-sig", "") if "utf-8" in encoding else encoding, "replace"
        )
        delimiter = _sniff_delimiter(sample)
    buffered = prepend_head(head, stream, buffer_size=1024 * 1024)
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=str(delimiter))
    number = 0
    try:
        for row in reader:
            number += 1
            if number == 1 and row and row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            yield number, list(row)
    except UnicodeDecodeError:
        raise ImportFormatError(
            f"row {number + 1}: the file is not valid {encoding} text from here on; save it as "
            "“CSV UTF-8” in Excel/WPS, or give the right encoding option (e.g. gb18030).",
            f"row {number + 1}",
        ) from None
    except csv.Error as exc:
        raise ImportFormatError(
            f"row {number + 1}: the CSV cannot be read ({exc}); check quotes in that row "
            "(a cell may be missing its closing quote).",
            f"row {number + 1}",
        ) from None


class CsvImporter:
    """Platform CSV exports: events or per-minute statistics, with a column mapping."""

    name = "csv"
    label = "CSV export (events or per-minute statistics)"

    def sniff(self, head: bytes, filename: str) -> bool:
        content = sniff_content(head)
        if content not in ("text", "json"):
            return False
        lower = filename.lower()
        if lower.endswith((".csv", ".tsv")):
            return content == "text"
        if content != "text":
            return False
        try:
            encoding = detect_encoding(head)
        except ImportFormatError:
            return False
        text = head.decode(
            encoding.replace("-sig", "") if "utf-8" in encoding else encoding, "replace"
        )
        cut = text.rfind("\n")
        lines = [line for line in text[: cut + 1].splitlines() if line.strip()][:10]
        if len(lines) < 2:
            return False
        for delimiter in (",", "\t", ";"):
            counts = [line.count(delimiter) for line in lines]
            if counts[0] >= 1 and counts.count(counts[0]) >= max(2, len(counts) * 8 // 10):
                return True
        return False

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        opts = options or {}
        table = _Table(opts)
        yield from table.items(_csv_rows(stream, opts))


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def _seekable(stream: BinaryIO) -> tuple[IO[bytes], IO[bytes] | None]:
    """The stream itself when seekable, else a temporary copy (closed by the caller)."""
    try:
        if stream.seekable():
            stream.seek(0)
            return stream, None
    except (OSError, ValueError):
        pass
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
    shutil.copyfileobj(stream, spool, 1024 * 1024)
    spool.seek(0)
    return spool, spool


def _xlsx_rows(stream: BinaryIO, opts: Mapping[str, Any]) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    file, spool = _seekable(stream)
    try:
        check_zip(file, name="the workbook", require_workbook=True)
        try:
            workbook = load_workbook(file, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise ImportFormatError(
                f"the workbook cannot be opened ({exc}); open it in Excel/WPS, save it as "
                ".xlsx again, or export CSV."
            ) from None
        try:
            sheet_name = opts.get("sheet")
            sheet: Any
            if sheet_name:
                if sheet_name not in workbook.sheetnames:
                    raise ImportFormatError(
                        f"the workbook has no sheet {sheet_name!r}; its sheets are: "
                        f"{', '.join(workbook.sheetnames)}."
                    )
                sheet = workbook[sheet_name]
            elif workbook.worksheets:
                sheet = workbook.worksheets[0]
            else:
                raise ImportFormatError("the workbook has no worksheet.")
            reset = getattr(sheet, "reset_dimensions", None)
            if reset is not None:
                reset()  # exporters often write a wrong <dimension>; read every row
            for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
                yield number, list(row)
        finally:
            workbook.close()
    finally:
        if spool is not None:
            spool.close()


class XlsxImporter:
    """Excel (.xlsx) platform exports: events or per-minute statistics."""

    name = "xlsx"
    label = "Excel workbook (.xlsx): events or per-minute statistics"

    def sniff(self, head: bytes, filename: str) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        lower = filename.lower()
        if lower.endswith((".xlsx", ".xlsm")):
            return True
        return b"xl/" in head and b"word/" not in head and b"ppt/" not in head

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        opts = options or {}
        table = _Table(opts)
        yield from table.items(_xlsx_rows(stream, opts))
