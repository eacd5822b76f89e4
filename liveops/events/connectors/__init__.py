"""Live connectors: a platform's live feed → canonical events, as it happens.

``base`` is the interface (no Django), ``twitch`` / ``bilibili`` / ``tiktok`` the
platforms, ``runner`` the reconnect-and-batch loop plus its Django side (store the events,
keep the ``Connector`` row's state). ``liveops connect`` runs one from the command line.
"""

from __future__ import annotations

from typing import Any

from liveops.events.connectors.base import (
    ConnectionLost,
    Connector,
    ConnectorError,
    StateListener,
)

__all__ = [
    "KINDS",
    "ConnectionLost",
    "Connector",
    "ConnectorError",
    "StateListener",
    "make_connector",
]

#: Connector kinds (the values of ``events.models.ConnectorKind``).
KINDS = ("bilibili", "tiktok", "twitch")


def make_connector(kind: str, target: str, **options: Any) -> Connector:
    """The connector of ``kind`` for ``target``; ConnectorError for a bad kind or target.

    Options go to the connector's constructor (Twitch: ``host``, ``port``, ``tls``).
    """
    if kind == "twitch":
        from liveops.events.connectors.twitch import TwitchConnector

        return TwitchConnector(target, **options)
    if kind == "bilibili":
        from liveops.events.connectors.bilibili import BilibiliConnector

        return BilibiliConnector(target, **options)
    if kind == "tiktok":
        from liveops.events.connectors.tiktok import TikTokConnector

        return TikTokConnector(target, **options)
    raise ConnectorError(f"unknown connector kind {kind!r}; use one of {', '.join(KINDS)}")
