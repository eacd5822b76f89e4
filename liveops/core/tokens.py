"""Secrets that are shown once and stored hashed (API keys, invite links)."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token; slow hashing adds nothing for 256-bit secrets."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, digest: str) -> bool:
    return hmac.compare_digest(token_hash(token), digest)
