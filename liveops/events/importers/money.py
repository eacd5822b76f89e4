"""Money shown as text by live platforms: ``"$5.00"``, ``"CA$10.00"``, ``"¥1,000"``, ``"₩5,000"``.

:func:`parse_money` turns such a string into an exact ``Decimal`` and an ISO 4217 code. It is
shared by the chat importers (YouTube Super Chats and Super Stickers, chat-downloader's
``amount`` strings); no float is ever involved.

Currency rules
--------------

* An ISO 4217 code before or after the number wins: ``"RUB 100.00"``, ``"PLN 25.00"``,
  ``"5 USD"`` (YouTube writes every currency without a well-known symbol this way, separated
  by a no-break space).
* Symbols map as YouTube (English UI) writes them: ``$`` → USD (YouTube writes the other
  dollars with a prefix: ``CA$``, ``A$``, ``NZ$``, ``HK$``, ``NT$``, ``MX$``, ``R$`` …),
  ``€`` → EUR, ``£`` → GBP, ``₹`` → INR, ``₩`` → KRW, ``₱`` → PHP, ``₽`` → RUB …
* ``¥`` / ``￥`` is **JPY**: YouTube writes the Chinese yuan as ``CN¥`` and the yen as a bare
  ``¥`` (``JP¥`` is accepted too). A file from a source that uses a bare ``¥`` for yuan must
  pass ``yen="CNY"``. ``元`` and ``RMB`` are CNY.
* Ambiguous symbols (``kr``: SEK, NOK, DKK or ISK) and unknown ones raise
  :class:`MoneyError` asking for the ISO code instead of guessing.

Number rules
------------

Grouping separators (``,`` ``.`` space, no-break space, apostrophe) are removed and the
decimal separator is found as a human reads it: with both ``,`` and ``.`` the last one is the
decimal point (``1,234.50``, ``1.234,50``); a separator used more than once groups thousands
(``1,000,000``); a single separator followed by exactly three digits groups thousands
(``¥1,220`` → 1220, ``1.500 €`` → 1500) unless the currency has three decimals (KWD, BHD,
OMR, JOD, TND, IQD, LYD); otherwise it is the decimal point (``5,00 €`` → 5.00). The amount
keeps the digits as written (``"5.00"`` stays ``5.00``, ``"¥500"`` is ``500``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

__all__ = ["ISO_4217", "SYMBOLS", "Money", "MoneyError", "format_amount", "parse_money"]


class MoneyError(ValueError):
    """The text is not an amount of money this module can read; the message says why."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @property
    def amount_text(self) -> str:
        """The amount as a plain decimal string (``"5.00"``), as the event schema wants it."""
        return format_amount(self.amount)


_ISO_CODES: Final = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XOF
    XPF YER ZAR ZMW ZWL
"""
#: Active ISO 4217 currency codes.
ISO_4217: Final[frozenset[str]] = frozenset(_ISO_CODES.split())

#: Currencies with three decimal places (a single separator + 3 digits is a decimal point).
_THREE_DECIMALS: Final[frozenset[str]] = frozenset(
    {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
)

#: Currency symbols as platforms print them → ISO code. ``$`` and ``¥`` are resolved by the
#: ``dollar`` / ``yen`` arguments of :func:`parse_money` (defaults USD and JPY).
SYMBOLS: Final[dict[str, str]] = {
    "US$": "USD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "NT$": "TWD",
    "MX$": "MXN",
    "R$": "BRL",
    "S$": "SGD",
    "SG$": "SGD",
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₩": "KRW",
    "￦": "KRW",
    "원": "KRW",
    "JP¥": "JPY",
    "円": "JPY",
    "CN¥": "CNY",
    "元": "CNY",
    "RMB": "CNY",
    "₱": "PHP",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "฿": "THB",
    "₴": "UAH",
    "₦": "NGN",
    "₡": "CRC",
    "₲": "PYG",
    "₸": "KZT",
    "₼": "AZN",
    "₾": "GEL",
    "zł": "PLN",
    "Kč": "CZK",
    "Ft": "HUF",
    "lei": "RON",
    "RM": "MYR",
    "Rp": "IDR",
    "E£": "EGP",
    "R": "ZAR",
}

_DOLLAR_SIGNS: Final = frozenset({"$", "＄"})
_YEN_SIGNS: Final = frozenset({"¥", "￥"})
_AMBIGUOUS: Final[dict[str, str]] = {
    "kr": "SEK, NOK, DKK or ISK",
    "kr.": "DKK or ISK",
    "Rs": "INR, PKR, LKR or NPR",
    "Rs.": "INR, PKR, LKR or NPR",
    "C$": "CAD or NIO",
}

# spaces a platform may put inside or around an amount (no-break, narrow no-break, thin)
_SPACES: Final = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_SHAPE: Final = re.compile(
    r"(?P<pre>[^\d]*?)\s*(?P<num>\d(?:[\d.,' \u2019]*\d)?)\s*(?P<post>[^\d]*?)", re.DOTALL
)
_GROUPED: Final = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _currency_of(marker: str, *, dollar: str, yen: str, text: str) -> str:
    if marker in _DOLLAR_SIGNS:
        return dollar
    if marker in _YEN_SIGNS:
        return yen
    if marker in SYMBOLS:
        return SYMBOLS[marker]
    if marker.upper() in ISO_4217 and marker.isalpha() and len(marker) == 3:
        return marker.upper()
    if marker in _AMBIGUOUS:
        raise MoneyError(
            f"{text!r}: the symbol {marker!r} is used by {_AMBIGUOUS[marker]}; "
            "write the amount with its ISO 4217 code (e.g. 'SEK 50.00')."
        )
    raise MoneyError(
        f"{text!r}: unknown currency symbol {marker!r}; write the amount with its ISO 4217 "
        "code (e.g. 'USD 5.00')."
    )


def _number(digits: str, currency: str, text: str) -> Decimal:
    compact = digits.replace(" ", "").replace("'", "").replace("\u2019", "")
    last_dot, last_comma = compact.rfind("."), compact.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
        group_sep = "," if decimal_sep == "." else "."
        whole, _, fraction = compact.rpartition(decimal_sep)
        if decimal_sep in whole or not _GROUPED.fullmatch(whole):
            raise MoneyError(f"{text!r}: the digit grouping of {digits!r} is not readable.")
        number = whole.replace(group_sep, "") + "." + fraction
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        whole, _, fraction = compact.rpartition(sep)
        if compact.count(sep) > 1:
            if not _GROUPED.fullmatch(compact):
                raise MoneyError(f"{text!r}: the digit grouping of {digits!r} is not readable.")
            number = compact.replace(sep, "")
        elif len(fraction) == 3 and currency not in _THREE_DECIMALS and len(whole) <= 3:
            number = whole + fraction  # "1,220" / "1.500": thousands
        else:
            number = whole + "." + fraction
    else:
        number = compact
    try:
        return Decimal(number)
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        raise MoneyError(f"{text!r}: {digits!r} is not a number.") from None


def parse_money(
    text: str, *, dollar: str = "USD", yen: str = "JPY", default_currency: str | None = None
) -> Money:
    """``"CA$10.00"`` → ``Money(Decimal("10.00"), "CAD")``; raises :class:`MoneyError`.

    ``dollar`` / ``yen`` say what a bare ``$`` / ``¥`` means (YouTube: USD / JPY).
    ``default_currency`` is used when the text has no currency marker at all (``"5.00"``);
    without it such text is an error.
    """
    if not isinstance(text, str):
        raise MoneyError(f"{text!r} is not text.")
    clean = text.translate(_SPACES).strip()
    shape = _SHAPE.fullmatch(clean)
    if shape is None or not clean:
        raise MoneyError(f"{text!r} has no amount: expected e.g. '$5.00' or 'EUR 5,00'.")
    pre, post = shape.group("pre").strip(), shape.group("post").strip()
    if pre and post:
        raise MoneyError(
            f"{text!r}: found currency markers both before ({pre!r}) and after ({post!r}) "
            "the number."
        )
    marker = pre or post
    if marker:
        currency = _currency_of(marker, dollar=dollar, yen=yen, text=text)
    elif default_currency:
        currency = default_currency
    else:
        raise MoneyError(f"{text!r} has no currency; write e.g. 'USD 5.00'.")
    return Money(_number(shape.group("num"), currency, text), currency)


def format_amount(amount: Decimal) -> str:
    """A plain decimal string without exponent: ``Decimal("1E+3")`` → ``"1000"``."""
    text = format(amount, "f")
    return "0" if text in {"-0", "0"} else text
