"""Bearer tokens: created by the command or the admin, stored as a hash, acting as their user."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from api import auth
from api.models import ApiToken
from tests.api.conftest import ApiClient, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

INVENTORY = "/api/v1/inventory"


def create_token(username: str, *args) -> tuple[str, str]:
    out = StringIO()
    call_command("create_api_token", username, *args, stdout=out)
    output = out.getvalue()
    return output, output.strip().splitlines()[-1]


def test_create_api_token_prints_a_working_token_on_its_last_line(merchant, pipeline):
    output, token = create_token(merchant.username, "--name", "Shop sync")

    assert token.startswith("sr_")
    assert len(output.strip().splitlines()) == 2
    response = ApiClient(Client(), token).get(INVENTORY)
    assert response.status_code == 200
    api_token = ApiToken.objects.get()
    assert (api_token.user, api_token.name) == (merchant, "Shop sync")


def test_only_a_hash_and_a_short_prefix_of_the_token_are_stored(merchant):
    _, token = create_token(merchant.username)

    api_token = ApiToken.objects.get()
    assert api_token.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert api_token.prefix == token[:11]
    stored = " ".join(str(value) for value in ApiToken.objects.values().get().values())
    assert token not in stored


def test_two_tokens_are_never_the_same(merchant):
    tokens = {create_token(merchant.username)[1] for _ in range(3)}
    assert len(tokens) == 3


def test_create_api_token_for_an_unknown_user_fails_clearly(db):
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        create_token("nobody")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz", "Bearer sr_not-a-token"],
)
def test_a_request_without_a_valid_token_is_a_401_in_json(api, header):
    headers = {} if header is None else {"Authorization": header}
    client = ApiClient(Client(), None)

    response = client.get(INVENTORY, headers=headers)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["details"]["code"] in {"not_authenticated", "invalid_token"}
    assert response.json()["error"]


def test_the_scheme_is_case_insensitive(api):
    response = api.get(INVENTORY, headers={"Authorization": f"bearer {api.token}"})
    assert response.status_code == 200


def test_a_logged_in_browser_session_does_not_authenticate_the_api(merchant, pipeline):
    browser = Client()
    browser.force_login(merchant)

    response = browser.get(INVENTORY)

    assert response.status_code == 401


def test_a_deleted_token_no_longer_works(api):
    ApiToken.objects.all().delete()
    assert api.get(INVENTORY).status_code == 401


def test_a_deactivated_users_token_no_longer_works(api, merchant):
    merchant.is_active = False
    merchant.save()

    response = api.get(INVENTORY)

    assert response.status_code == 401
    assert response.json()["details"]["code"] == "inactive_user"


def test_the_token_users_permissions_apply(pipeline):
    nobody = client_for(UserFactory())

    response = nobody.get(INVENTORY)

    assert response.status_code == 403
    assert "inventory.view_stockline" in response.json()["error"]


def test_last_used_is_recorded_at_most_once_a_minute(api):
    api.get(INVENTORY)
    first = ApiToken.objects.get().last_used_at
    assert first is not None

    api.get(INVENTORY)
    assert ApiToken.objects.get().last_used_at == first

    ApiToken.objects.update(last_used_at=first - auth.LAST_USED_RESOLUTION - timedelta(seconds=1))
    api.get(INVENTORY)
    assert ApiToken.objects.get().last_used_at > first - timedelta(seconds=1)
    assert ApiToken.objects.get().last_used_at <= timezone.now()


# --- tokens in the admin ----------------------------------------------------------------------

TOKEN_IN_MESSAGE = re.compile(r"is: (sr_[A-Za-z0-9_-]+) — copy it now")


def test_the_admin_creates_a_token_and_shows_it_once_in_a_message(admin_client, merchant):
    response = admin_client.post(
        "/admin/api/apitoken/add/", {"user": merchant.pk, "name": "Shop sync"}, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    [token] = [m.group(1) for text in messages if (m := TOKEN_IN_MESSAGE.search(text))]
    assert ApiToken.objects.get().user == merchant
    assert ApiClient(Client(), token).get(INVENTORY).status_code == 200
    listing = admin_client.get("/admin/api/apitoken/")
    assert token not in listing.content.decode()
    assert token[:11] in listing.content.decode()


def test_a_merchant_in_the_admin_creates_tokens_only_for_themselves(client, merchant):
    merchant.is_staff = True
    merchant.save()
    other = UserFactory(role="Merchant")
    client.force_login(merchant)

    refused = client.post("/admin/api/apitoken/add/", {"user": other.pk, "name": "Steal"})
    assert refused.status_code == 200
    assert not ApiToken.objects.exists()

    client.post("/admin/api/apitoken/add/", {"user": merchant.pk, "name": "Mine"})
    assert list(ApiToken.objects.values_list("user", "name")) == [(merchant.pk, "Mine")]


def test_a_merchant_sees_only_their_own_tokens_in_the_admin(client, merchant):
    merchant.is_staff = True
    merchant.save()
    client_for(UserFactory(role="Merchant"))
    client.force_login(merchant)

    response = client.get("/admin/api/apitoken/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
