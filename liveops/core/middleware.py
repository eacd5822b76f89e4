"""Cross-cutting HTTP behaviour: security headers and per-user preferences."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header of ``settings.LIVEOPS_CSP`` to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.LIVEOPS_CSP)
        return response


class UserPreferencesMiddleware:
    """Activates the signed-in user's language and time zone.

    Runs after LocaleMiddleware so a saved preference wins over the browser's
    Accept-Language; the workspace views switch to the workspace's time zone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", "")
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
            tz_name = getattr(user, "time_zone", "")
            if tz_name:
                timezone.activate(ZoneInfo(tz_name))
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "")
        return response


class RequestSizeLimitMiddleware:
    """Refuse oversized bodies from the Content-Length header, before anything reads them.

    Uploads may be up to ``LIVEOPS_IMPORT_MAX_BYTES``; API bodies up to the ingest limit.
    Runs before the CSRF middleware, which would otherwise parse a multipart upload.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_api = request.path.startswith("/api/")
        limit = settings.LIVEOPS_API_MAX_BODY if is_api else settings.LIVEOPS_IMPORT_MAX_BYTES
        if length > limit:
            message = f"The request body is {length} bytes; the limit is {limit}."
            if is_api:
                return JsonResponse({"error": "body_too_large", "message": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
