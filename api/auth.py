"""Bearer-token authentication: ``Authorization: Bearer <token>``, and nothing else (no session
cookie, so no request can be forged by another site's page)."""

from datetime import timedelta

from django.utils import timezone

from .errors import ApiError
from .models import ApiToken

MSG_NO_TOKEN = "Send an API token in the header Authorization: Bearer <token>."
MSG_BAD_TOKEN = "This API token is not valid."
MSG_INACTIVE_USER = "This API token belongs to a deactivated user."
#: How stale ``last_used_at`` may get before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
WWW_AUTHENTICATE = 'Bearer realm="stockroom"'


def authenticate(request) -> ApiToken:
    """The token the request carries; raise a 401 ``ApiError`` without a valid one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            MSG_NO_TOKEN,
            code="not_authenticated",
            headers={"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    api_token = ApiToken.objects.for_token(token).select_related("user").first()
    if api_token is None:
        raise ApiError(
            401,
            MSG_BAD_TOKEN,
            code="invalid_token",
            headers={"WWW-Authenticate": f'{WWW_AUTHENTICATE}, error="invalid_token"'},
        )
    if not api_token.user.is_active:
        raise ApiError(401, MSG_INACTIVE_USER, code="inactive_user")
    _touch(api_token)
    return api_token


def _touch(api_token: ApiToken) -> None:
    now = timezone.now()
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now
