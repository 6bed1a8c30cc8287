"""API-key authentication: `X-Api-Key: <key>` or `Authorization: Api-Key <key>`.

Keys are created and verified by djangorestframework-api-key (stored as SHA-512 hashes,
looked up by their public prefix); this class only reads the headers and turns a valid,
unrevoked, unexpired key into its user. A key whose user is inactive or has no account
is refused like a bad key: 401.
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework import authentication, exceptions

from assets.models import ApiKey

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
    api_key = (
        ApiKey.objects.get_usable_keys()
        .select_related("user__membership__account")
        .filter(prefix=prefix)
        .first()
    )
    return api_key if api_key is not None and api_key.is_valid(key) else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        key = api_key_from_headers(request._request)
        if key is None:
            return None
        if not (key.isascii() and key.isprintable() and len(key) <= 200):
            raise exceptions.AuthenticationFailed(
                "the API key is malformed; send the key exactly as it was issued"
            )
        api_key = api_key_get(key)
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
