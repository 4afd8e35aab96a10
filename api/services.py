from .models import ApiToken


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with its secret, which is shown once and never
    stored."""
    api_token = ApiToken(user=user, name=name)
    secret = api_token.generate()
    api_token.save()
    return api_token, secret
