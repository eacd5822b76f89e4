"""Expand a series' RFC 5545 RRULE into aware start times. Pure: no database.

The rule is expanded on *local wall-clock* times in the workspace time zone and each
occurrence is then made aware, so "every Tuesday at 20:00" stays 20:00 local across a
daylight-saving change (expanding in UTC would shift it by an hour).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr
from django.utils.translation import gettext as _

DEFAULT_LIMIT = 500


def _normalise(rule: str, tz: tzinfo) -> str:
    """Strip an ``RRULE:`` prefix and turn a UTC ``UNTIL=…Z`` into local wall-clock time."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "\n" in text or "DTSTART" in text.upper():
        raise ValueError(_("Enter only the RRULE part (the first start is a separate field)."))
    parts = []
    for part in text.split(";"):
        key, _sep, value = part.partition("=")
        if key.strip().upper() == "UNTIL" and value.strip().upper().endswith("Z"):
            try:
                until = datetime.strptime(value.strip().upper(), "%Y%m%dT%H%M%SZ")
            except ValueError as exc:
                raise ValueError(_("UNTIL must look like 20261231T235959Z.")) from exc
            local = until.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
            value = local.strftime("%Y%m%dT%H%M%S")
        parts.append(f"{key.strip().upper()}={value.strip()}")
    return ";".join(parts)


def expand(rule: str, dtstart: datetime, tz: tzinfo, limit: int = DEFAULT_LIMIT) -> list[datetime]:
    """All occurrences of ``rule`` from ``dtstart`` as aware datetimes in ``tz``.

    An empty rule means a single occurrence. Raises ValueError with a message fit for the
    form when the rule cannot be parsed, never ends, or yields more than ``limit`` starts.
    """
    local_start = (dtstart.astimezone(tz) if dtstart.tzinfo else dtstart).replace(tzinfo=None)
    if not rule.strip():
        return [local_start.replace(tzinfo=tz)]
    text = _normalise(rule, tz)
    upper = text.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise ValueError(
            _("The recurrence must end: add COUNT (e.g. COUNT=16) or UNTIL to the rule.")
        )
    try:
        parsed = rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            _("This is not a valid RRULE (%(error)s). Example: FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16")
            % {"error": exc}
        ) from exc
    if not isinstance(parsed, RRule):  # pragma: no cover - rrulestr returns rruleset for sets
        raise ValueError(_("Enter a single RRULE."))
    starts: list[datetime] = []
    for occurrence in parsed:
        if len(starts) >= limit:
            raise ValueError(
                _(
                    "This recurrence produces more than %(limit)s sessions. "
                    "Lower COUNT or bring UNTIL closer."
                )
                % {"limit": limit}
            )
        # fold=0: an ambiguous wall time (clocks going back) takes the first occurrence.
        starts.append(occurrence.replace(tzinfo=tz))
    if not starts:
        raise ValueError(_("This recurrence produces no sessions."))
    return starts
