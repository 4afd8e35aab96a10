"""`make bench` at a tiny scale, so that the harness cannot rot: it seeds, starts a server,
measures one of each figure against the real pages and services, and writes its JSON.

Only the shape of the results and the ledger are asserted here, never a timing: performance is
measured by `make bench`, not by the test suite.
"""

import json
import secrets

import pytest
from django.core.management import call_command

from bench.db import connection_url
from bench.run import SERVER_SETTINGS, run
from bench.scales import SCALES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    # The server processes read what this test writes: it must be committed.
    pytest.mark.django_db(transaction=True),
]

SCALE = SCALES["tiny"]
FIGURE_KEYS = {
    *(f"list.first.{key}" for key in ("none", "warehouse", "low", "search", "sku_prefix")),
    "list.first.stagnant",
    "list.deep.none",
    "list.admin.none",
    "list.queries",
    "export.time",
    "export.memory",
    "stock_at.totals",
    "stock_at.rows",
    "adjust.clients_1",
    "adjust.clients_8",
    "adjust.no_lost_update",
    "reception",
    "count",
    "ledger",
    "seed",
}


def _run(tmp_path) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": connection_url(),
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    return run(
        SCALE,
        server_env=env,
        workdir=tmp_path / "work",
        results_dir=tmp_path / "results",
        progress=lambda text: None,
    )


def test_tiny_run_measures_every_figure_and_leaves_a_verified_ledger(tmp_path, capsys):
    results = _run(tmp_path)
    figures = {figure["key"]: figure for figure in results["figures"]}

    assert results["errors"] == []
    _assert_seeded_and_verified(results)
    _assert_figures_have_their_parts(results, figures)
    _assert_json_written(results)
    _assert_server_settings_recorded(results)
    _assert_list_pages_show_the_raw_sql_lines(figures)
    _assert_export_streams_every_line(figures)
    _assert_no_lost_update(figures)
    _assert_writes_and_stock_at_date_agree_with_raw_sql(figures)
    capsys.readouterr()
    call_command("verify_ledger")
    assert capsys.readouterr().out.startswith("ledger OK: ")


def _assert_seeded_and_verified(results):
    assert results["seed"]["stock_lines"] == SCALE.stock_lines
    assert results["seed"]["movements"] == SCALE.movements
    assert results["verify_ledger"]["ok"] is True
    assert results["verify_ledger"]["problems"] == []
    assert results["verify_ledger"]["lines"] == SCALE.stock_lines


def _assert_figures_have_their_parts(results, figures):
    assert set(figures) >= FIGURE_KEYS
    for figure in results["figures"]:
        assert isinstance(figure["stockroom"], int | float), figure["key"]
        assert figure["passed"] in (True, False, None), figure["key"]
        # Only the seeding time has no target below the full scale.
        assert figure["target"] or figure["key"] == "seed", figure["key"]
        if figure["floor"] is not None:
            assert figure["ratio"] > 0, figure["key"]


def _assert_json_written(results):
    with open(results["results_file"]) as file:
        written = json.load(file)
    assert [figure["key"] for figure in written["figures"]] == [
        figure["key"] for figure in results["figures"]
    ]
    assert written["table"].splitlines()[0].startswith("| figure ")
    assert len(written["table"].splitlines()) == len(written["figures"]) + 2


def _assert_server_settings_recorded(results):
    # The plans, hence the figures, depend on them: a run on another server is read with them.
    recorded = results["environment"]["postgresql_settings"]
    assert set(recorded) == set(SERVER_SETTINGS)
    assert float(recorded["random_page_cost"]) > 0


def _assert_list_pages_show_the_raw_sql_lines(figures):
    for key, figure in figures.items():
        if not key.startswith(("list.first", "list.deep")):
            continue
        assert figure["details"]["rows_match_raw_sql"] is True, figure["key"]
    assert figures["list.first.none"]["details"]["next_link"]["rows_match_raw_sql"] is True


def _assert_export_streams_every_line(figures):
    details = figures["export.time"]["details"]
    assert details["rows"] == SCALE.stock_lines
    assert details["psql_rows"] == SCALE.stock_lines
    assert figures["export.memory"]["stockroom"] > 0


def _assert_no_lost_update(figures):
    checked = figures["adjust.no_lost_update"]
    assert checked["stockroom"] == 0
    assert checked["details"]["adjustments_written"] > 0
    assert figures["adjust.clients_8"]["floor"] > 0


def _assert_writes_and_stock_at_date_agree_with_raw_sql(figures):
    assert figures["reception"]["details"]["ledger_problems"] == []
    assert figures["count"]["details"]["ledger_problems"] == []
    assert figures["count"]["details"]["movements_per_count"] == SCALE.variants
    assert figures["stock_at.totals"]["details"]["same_totals"] is True
    rows = figures["stock_at.rows"]["details"]
    assert rows["rows"] == rows["raw_rows"]
