"""System checks that make a mis-configured production start fail loudly."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def secret_key_is_set(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    key = getattr(settings, "SECRET_KEY", "")
    if not key or len(key) < 50:
        return [
            Error(
                "SECRET_KEY is missing or shorter than 50 characters.",
                hint="Set the SECRET_KEY environment variable, e.g. to the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`.",
                id="liveops.E001",
            )
        ]
    return []
