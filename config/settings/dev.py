"""Local development and `make run`: debug on, plain HTTP on localhost."""

from config.env import SECRET_KEY as _ENV_SECRET
from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES

DEBUG = True
SECRET_KEY = _ENV_SECRET or "dev-only-insecure-key-do-not-use-in-production-3b9f0c1e"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
