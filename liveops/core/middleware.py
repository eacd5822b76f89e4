"""Cross-cutting HTTP behaviour: security headers and per-user preferences.

Every middleware here works both ways (sync and async): under ASGI a single sync-only
middleware makes Django run the rest of the stack through a thread hand-off per request,
which costs the ingest API about a tenth of its throughput.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class _DualMiddleware:
    """Base of a middleware usable in a sync and an async stack (Django's recipe)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self.__acall__(request)
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError


class ContentSecurityPolicyMiddleware(_DualMiddleware):
    """Adds the Content-Security-Policy header of ``settings.LIVEOPS_CSP`` to every response."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.LIVEOPS_CSP)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.LIVEOPS_CSP)
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, usable in an async stack: static files are served from a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            response: HttpResponse = await sync_to_async(self.serve)(static_file, request)
            return response
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        return await get_response(request)


class UserPreferencesMiddleware(_DualMiddleware):
    """Activates the signed-in user's language and time zone.

    Runs after LocaleMiddleware so a saved preference wins over the browser's
    Accept-Language; the workspace views switch to the workspace's time zone.
    """

    @staticmethod
    def _apply(request: HttpRequest, user: Any) -> None:
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", "")
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
            tz_name = getattr(user, "time_zone", "")
            if tz_name:
                timezone.activate(ZoneInfo(tz_name))

    def handle(self, request: HttpRequest) -> HttpResponse:
        self._apply(request, getattr(request, "user", None))
        response: HttpResponse = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "")
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        user = None
        if hasattr(request, "auser") and settings.SESSION_COOKIE_NAME in request.COOKIES:
            user = await request.auser()  # no session cookie (API, assets): no lookup
        self._apply(request, user)
        response: HttpResponse = await self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "")
        return response


class RequestSizeLimitMiddleware(_DualMiddleware):
    """Refuse oversized bodies from the Content-Length header, before anything reads them.

    Uploads may be up to ``LIVEOPS_IMPORT_MAX_BYTES``; API bodies up to the ingest limit.
    Runs before the CSRF middleware, which would otherwise parse a multipart upload.
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        response: HttpResponse = self.get_response(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        response: HttpResponse = await self.get_response(request)
        return response

    @staticmethod
    def _refusal(request: HttpRequest) -> HttpResponse | None:
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
        return None
