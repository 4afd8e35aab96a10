"""Fixtures of the order pipeline tests; helpers live in tests/orders/helpers.py."""

import pytest

from orders.models import PipelineSettings
from tests.factories import UserFactory


@pytest.fixture
def pipeline(db) -> PipelineSettings:
    """The pipeline settings (defaults: reserve at confirmed, deduct at shipped)."""
    return PipelineSettings.load()


@pytest.fixture
def merchant(db):
    return UserFactory(role="Merchant")


@pytest.fixture
def accountant(db):
    return UserFactory(role="Accountant")
