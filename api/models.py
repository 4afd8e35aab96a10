"""API tokens: a shop's key to the JSON API, acting as the user it belongs to.

Only a SHA-256 hash of the token is stored, with a short prefix to recognise it in lists and
in order histories; the token itself is shown once, when it is created.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "sr_"
#: Characters of the token kept in clear ("sr_" and the first 8 random ones).
DISPLAY_LENGTH = len(TOKEN_PREFIX) + 8


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_token(self, token: str):
        return self.filter(key_hash=hash_token(token))


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("The token acts as this user: their permissions and warehouses apply."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What uses it, such as “Shop sync”.")
    )
    #: The beginning of the token, kept in clear so that people can tell tokens apart.
    prefix = models.CharField(_("token starts with"), max_length=DISPLAY_LENGTH, editable=False)
    #: SHA-256 of the whole token: the token itself is never stored.
    key_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    #: Updated at most once a minute, so that busy clients do not write on every request.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.label})"

    @property
    def label(self) -> str:
        """How the token is shown: its prefix followed by an ellipsis."""
        return f"{self.prefix}…"

    def generate(self) -> str:
        """Give this (unsaved) token a new secret; return the secret, which is not stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.prefix = token[:DISPLAY_LENGTH]
        self.key_hash = hash_token(token)
        return token
