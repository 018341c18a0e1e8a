"""Encryption of stored OAuth tokens: Fernet (AES-128-CBC with HMAC-SHA256) with keys from the environment.

CALENDARSYNC_TOKEN_KEYS lists one or more secrets, newest first; each is stretched into a Fernet
key, so any long random string will do. Older keys still decrypt, which is how a key is rotated:
put the new one first and run `manage.py rotate_token_keys`. Without it the keys derive from
SECRET_KEY, which is also never in the database: a dump alone never yields a usable token.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from . import app_settings

PREFIX = "fernet:"


class TokenKeyError(Exception):
    """A stored token cannot be decrypted with the configured keys."""


def _keys() -> list[bytes]:
    secrets = [secret.strip() for secret in app_settings.TOKEN_KEYS.split(",") if secret.strip()] or [
        f"derived-from-secret-key:{settings.SECRET_KEY}"]
    return [base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()) for secret in secrets]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(text: str) -> str:
    return PREFIX + _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise TokenKeyError("A stored token is not encrypted.")
    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise TokenKeyError("A stored token cannot be decrypted: CALENDARSYNC_TOKEN_KEYS has changed.") from exc


def is_encrypted(value: str) -> bool:
    """Whether `value` is a token these keys encrypted (a fixture's), not merely text that looks like one."""
    if not value.startswith(PREFIX):
        return False
    try:
        decrypt(value)
    except TokenKeyError:
        return False
    return True
