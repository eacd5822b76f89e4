"""What each METRICS.md figure is called and how it is defined, in the reader's language.

One entry per metric key: (label, unit, definition). The definitions restate
``../shared/METRICS.md``; the review shows them on hover, in the PDF and in the Excel
Summary sheet, so every figure has its definition one glance away.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext_lazy as _

from liveops.reports.review import Unit

CATALOG: Final[dict[str, tuple[Any, Unit, Any]]] = {
    "duration_s": (_("Duration"), "seconds", _("End − start of the live (from the session, else first/last event).")),
    "pcu": (_("Peak online (PCU)"), "count", _("Highest online(t) over the minutes of the live.")),
    "acu": (_("Average online (ACU)"), "number", _("Σ online(t)·Δt ÷ duration (= hours watched ÷ airtime).")),
    "uv": (_("Viewers (UV)"), "count", _("Distinct viewers with any event in the session.")),
    "pv": (_("Views (PV)"), "count", _("Number of entries (enter events), re-entries counted.")),
    "avg_watch_s": (_("Average watch time"), "seconds", _("Total watch time ÷ UV (per viewer, not per view).")),
    "hours_watched": (_("Total watch time"), "seconds", _("Σ watch time (events) or Σ online(t)·Δt (snapshots).")),
    "stay_1min_rate": (_("1-minute stay rate"), "rate", _("Viewers with watch time > 60 s ÷ UV.")),
    "bounce_rate": (_("Bounce rate"), "rate", _("Viewers with watch time < 10 s ÷ UV.")),
    "new_viewers": (_("New viewers"), "count", _("Viewers not seen in the account's sessions of the 30 days before.")),
    "returning_viewers": (_("Returning viewers"), "count", _("Viewers seen in an earlier session of the account within 30 days.")),
    "return_rate_next": (_("Return rate (next session)"), "rate", _("Viewers of this session who watch the series' next session ÷ UV.")),
    "comments": (_("Comments"), "count", _("Number of comment events.")),
    "commenters": (_("Commenters"), "count", _("Distinct viewers who commented.")),
    "likes": (_("Likes"), "count", _("Σ like counts.")),
    "shares": (_("Shares"), "count", _("Number of share events.")),
    "follows": (_("New follows"), "count", _("Number of follow events.")),
    "interaction_rate": (_("Interaction rate"), "rate", _("Distinct viewers who commented, liked, shared, followed or gifted ÷ UV.")),
    "comment_rate": (_("Comment rate"), "rate", _("Commenters ÷ UV.")),
    "follow_rate": (_("Follow rate"), "rate", _("New follows ÷ UV.")),
    "answered_60s_rate": (_("Questions answered within 60 s"), "rate", _("Answered questions with answer − asked ≤ 60 s ÷ questions.")),
    "gmv": (_("GMV"), "money", _("Σ order amounts − Σ refunds in the session, in the session currency.")),
    "orders": (_("Orders"), "count", _("Number of order events.")),
    "buyers": (_("Buyers"), "count", _("Distinct viewers who ordered.")),
    "conversion_rate": (_("Conversion rate"), "rate", _("Buyers ÷ UV.")),
    "uv_value": (_("UV value"), "money", _("GMV ÷ UV.")),
    "aov": (_("Average order value"), "money", _("GMV ÷ buyers.")),
    "gpm": (_("GPM"), "money", _("GMV × 1000 ÷ PV (per thousand views).")),
    "gift_revenue": (_("Gift revenue"), "money", _("Σ gift values in the session currency at the platform's rate.")),
    "attributed_viewers": (_("Attributed viewers"), "count", _("Distinct viewers whose first entry carries a channel's tracking code or passphrase.")),
    "cost_per_viewer": (_("Cost per viewer"), "money", _("Channel cost ÷ attributed viewers.")),
    "channel_roi": (_("Channel ROI"), "number", _("GMV from attributed viewers ÷ channel cost.")),
    "entry_rate": (_("Exposure → entry rate"), "rate", _("Entries ÷ impressions (only with imported impressions).")),
}  # fmt: skip

#: The KPI cards of a review, in order.
CARD_KEYS: Final = (
    "uv", "pcu", "acu", "avg_watch_s", "stay_1min_rate", "interaction_rate", "follows", "gmv",
    "orders", "conversion_rate", "gpm", "comments",
)  # fmt: skip

#: Keys whose larger value is worse (used to colour comparisons).
LOWER_IS_BETTER: Final = frozenset({"bounce_rate", "cost_per_viewer"})
