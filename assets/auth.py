"""API-key authentication: `X-Api-Key: <key>` or `Authorization: Api-Key <key>`.

Keys are created and verified by djangorestframework-api-key (stored as SHA-512 hashes,
looked up by their public prefix); this class only reads the headers and turns a valid,
unrevoked, unexpired key into its user. A key whose user is inactive or has no account
is refused like a bad key: 401.

A key found valid is remembered by the process for API_KEY_CACHE_SECONDS (default 5), so
a burst of requests (a page of thumbnails, say) looks it up once: the lookup, a query
with three joins, was half the time of a rendition served from storage. The price is
that revoking a key, deactivating its user or changing their role takes effect within
that many seconds rather than at once; 0 turns the memory off.
"""

from __future__ import annotations

import hashlib
import threading
import time

from django.conf import settings
from django.http import HttpRequest
from rest_framework import authentication, exceptions

from assets.models import ApiKey
from assets.selectors import one_or_none

KEYWORD = "Api-Key"


def api_key_from_headers(request: HttpRequest) -> str | None:
    key = request.META.get("HTTP_X_API_KEY")
    if key:
        return key.strip()
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == KEYWORD.lower() and credentials.strip():
        return credentials.strip()
    return None


def api_key_get(key: str) -> ApiKey | None:
    """The usable key `key` names, with its user, membership and account in the same
    query (the library's `get_from_key` takes one query each), or None."""
    prefix, _, _ = key.partition(".")
    api_key = one_or_none(ApiKey.objects.get_usable_keys().select_related("user__membership__account").filter(prefix=prefix))
    return api_key if api_key is not None and api_key.is_valid(key) else None


_CACHE_SIZE = 1024
_recent: dict[str, tuple[float, ApiKey]] = {}
_recent_lock = threading.Lock()


def api_key_get_recent(key: str) -> ApiKey | None:
    """`api_key_get`, remembered for API_KEY_CACHE_SECONDS when valid (unknown, revoked and
    expired keys are never remembered: they are looked up every time)."""
    seconds = settings.API_KEY_CACHE_SECONDS
    if seconds <= 0:
        return api_key_get(key)
    digest = hashlib.sha256(key.encode()).hexdigest()
    now = time.monotonic()
    found = _recent.get(digest)
    if found is not None and found[0] > now:
        return found[1]
    api_key = api_key_get(key)
    if api_key is None:
        _recent.pop(digest, None)
    else:
        with _recent_lock:
            if len(_recent) >= _CACHE_SIZE:
                _recent.clear()
            _recent[digest] = (now + seconds, api_key)
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        key = api_key_from_headers(request._request)
        if key is None:
            return None
        if not (key.isascii() and key.isprintable() and len(key) <= 200):
            raise exceptions.AuthenticationFailed(
                "the API key is malformed; send the key exactly as it was issued"
            )
        api_key = api_key_get_recent(key)
        if api_key is None or api_key.has_expired:
            raise exceptions.AuthenticationFailed(
                "the API key is not valid (unknown, revoked or expired); "
                "send a current key in the X-Api-Key header"
            )
        user = api_key.user
        if not user.is_active or not hasattr(user, "membership"):
            raise exceptions.AuthenticationFailed(
                "the API key's user is inactive or belongs to no account; ask an ADMIN for a new key"
            )
        return user, api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return KEYWORD
