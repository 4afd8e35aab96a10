"""Project-wide pytest configuration and fixtures."""

import os

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.factories import UserFactory, VariantFactory, WarehouseFactory


def skip_or_fail_without_postgres() -> None:
    """Skip unless the default database is PostgreSQL, or fail if STOCKROOM_REQUIRE_POSTGRES=1.

    `make test` (scripts/with_postgres.py) and CI set STOCKROOM_REQUIRE_POSTGRES=1, so that a
    PostgreSQL test can never be skipped silently there.
    """
    vendor = connections["default"].vendor
    if vendor == "postgresql":
        return
    message = f"needs PostgreSQL (DATABASE_URL=postgres://...), the database is {vendor}"
    if os.environ.get("STOCKROOM_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{message}, and STOCKROOM_REQUIRE_POSTGRES=1 forbids skipping", pytrace=False)
    pytest.skip(message)


class BackloggedLiveServer(ThreadedWSGIServer):
    # Django's test server listens with a backlog of 10. When 50 clients connect at once on a
    # busy 2-core CI machine, the kernel drops the overflow and a client can see its connection
    # reset, which would fail a race test for a reason that has nothing to do with Stockroom.
    request_queue_size = 128


def pytest_configure(config: pytest.Config) -> None:
    LiveServerThread.server_class = BackloggedLiveServer


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        skip_or_fail_without_postgres()


@pytest.fixture
def require_postgres() -> None:
    """For tests that need PostgreSQL only in some cases: same rule as @pytest.mark.postgres."""
    skip_or_fail_without_postgres()


# --- Shared fixtures (factories, users, ...) go below this line. ---


@pytest.fixture
def warehouse(db):
    return WarehouseFactory()


@pytest.fixture
def other_warehouse(db):
    return WarehouseFactory()


@pytest.fixture
def variant(db):
    """A variant counted in pieces (whole numbers only)."""
    return VariantFactory()


@pytest.fixture
def kg_variant(db):
    """A variant sold by weight (fractions allowed)."""
    return VariantFactory(by_weight=True)


@pytest.fixture
def user(db):
    return UserFactory()
