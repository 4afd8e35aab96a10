"""Fixtures of the API tests: a token for a Merchant and a client that sends it."""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from api.services import api_token_create
from orders.models import PipelineSettings
from tests.factories import UserFactory


@dataclass
class ApiClient:
    """Calls the API as a shop would: JSON bodies and a Bearer token."""

    client: Client
    token: str | None

    def headers(self, extra=None) -> dict:
        headers = dict(extra or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self.headers(headers))

    def post(self, path, body=None, *, raw=None, content_type="application/json", headers=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            path, data, content_type=content_type, headers=self.headers(headers)
        )

    def call(self, method, path, headers=None, **kwargs):
        return getattr(self.client, method.lower())(path, headers=self.headers(headers), **kwargs)


def client_for(user) -> ApiClient:
    _, secret = api_token_create(user=user, name="Shop")
    return ApiClient(Client(), secret)


@pytest.fixture
def pipeline(db):
    return PipelineSettings.load()


@pytest.fixture
def merchant(db):
    return UserFactory(role="Merchant")


@pytest.fixture
def api(merchant, pipeline) -> ApiClient:
    """The API as the merchant's shop."""
    return client_for(merchant)
