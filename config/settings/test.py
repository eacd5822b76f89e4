"""Test overlay: dev settings plus a fast password hasher."""

from config.settings.dev import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LIVEOPS_IMPORT_INLINE = True

# A file, not an in-memory database: browser and concurrency tests use several
# connections at once, and only a file database honours SQLite's busy timeout.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"liveops-test-{os.getpid()}.sqlite3")
    }
