"""Figures for people: 1.2万 / 12.3K, 25.0 %, 1:05:09, ¥3,210.00 — and "—" for not available."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from liveops.reports.review import Number, Unit

SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "JPY": "¥", "GBP": "£", "KRW": "₩", "TWD": "NT$"}
NOT_AVAILABLE = "—"


def count(value: Number | None, language: str) -> str:
    if value is None:
        return NOT_AVAILABLE
    n = float(value)
    if language.startswith("zh"):
        if abs(n) >= 100_000_000:
            return f"{n / 100_000_000:.2f}亿"
        if abs(n) >= 10_000:
            return f"{n / 10_000:.1f}万"
    if n == int(n):
        return f"{int(n):,}"
    return f"{n:,.1f}"


def rate(value: Number | None) -> str:
    return NOT_AVAILABLE if value is None else f"{float(value) * 100:.1f}%"


def seconds(value: Number | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    total = round(float(value))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def money(value: Number | None, currency: str) -> str:
    if value is None:
        return NOT_AVAILABLE
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    symbol = SYMBOLS.get(currency, currency + " ")
    return f"{symbol}{amount:,.2f}"


def number(value: Number | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    return f"{float(value):,.2f}"


def display(value: Number | None, unit: Unit, *, language: str, currency: str) -> str:
    if unit == "count":
        return count(value, language)
    if unit == "rate":
        return rate(value)
    if unit == "seconds":
        return seconds(value)
    if unit == "money":
        return money(value, currency)
    return number(value)


def change(value: Number | None, base: Number | None) -> float | None:
    """value ÷ base − 1, or None when either is missing or base is 0."""
    if value is None or base is None or float(base) == 0:
        return None
    return float(value) / float(base) - 1
