"""/inventory/counts/: start, count (scan, type, upload), sheet, gaps, apply once."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.forms.counts import MSG_UNKNOWN_SKUS
from inventory.ledger import verify_ledger
from inventory.models import CountScope, CountSession, CountStatus, Movement, MovementReason
from inventory.services import (
    StockQuantity,
    count_record,
    count_session_start,
    stock_reserve,
    stock_ship,
)
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    UserFactory,
    VariantFactory,
    WarehouseFactory,
)
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

URL = "/inventory/counts/"


@pytest.fixture
def staff(client):
    user = UserFactory(role="Warehouse staff")
    client.force_login(user)
    return user


def start(warehouse, **kwargs):
    kwargs.setdefault("scope", CountScope.ALL)
    return count_session_start(warehouse=warehouse, **kwargs)


def upload(client, session, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        f"{URL}{session.pk}/",
        {"form": "upload", "file": SimpleUploadedFile("sheet.csv", data)},
    )


def test_starting_a_count_of_the_whole_warehouse(client, staff, warehouse, variant):
    receive(variant, warehouse, 6)

    response = client.post(
        URL, {"warehouse": warehouse.code, "scope": "all", "big_gap": "5", "note": ""}
    )

    session = CountSession.objects.get()
    assert response["Location"] == session.get_absolute_url()
    assert (session.created_by, session.big_gap) == (staff, d(5))
    assert session.lines.get().expected == d(6)


def test_starting_a_count_of_a_category(client, staff, warehouse):
    shoes = CategoryFactory(name="Shoes")
    boot, mug = VariantFactory(product=ProductFactory(category=shoes)), VariantFactory()
    receive(boot, warehouse, 1)
    receive(mug, warehouse, 1)

    client.post(
        URL,
        {"warehouse": warehouse.code, "scope": "category", "category": shoes.pk, "big_gap": "5"},
    )

    assert [line.variant for line in CountSession.objects.get().lines.all()] == [boot]


def test_unknown_skus_in_the_list_are_named(client, staff, warehouse, variant):
    response = client.post(
        URL,
        {
            "warehouse": warehouse.code,
            "scope": "skus",
            "skus": f"{variant.sku}\nNOPE",
            "big_gap": "5",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["skus"] == [MSG_UNKNOWN_SKUS % {"skus": "NOPE"}]
    assert CountSession.objects.count() == 0


def test_starting_a_count_with_nothing_to_count_is_refused(client, staff, warehouse):
    response = client.post(URL, {"warehouse": warehouse.code, "scope": "all", "big_gap": "5"})

    assert response.status_code == 400
    assert "warehouse" in response.context["form"].errors


def test_each_scan_counts_one_more_and_a_typed_quantity_replaces(client, staff, warehouse, variant):
    receive(variant, warehouse, 6)
    session = start(warehouse)
    page = f"{URL}{session.pk}/"

    client.post(page, {"sku": variant.sku, "counted": "", "add": "on"})
    client.post(page, {"sku": variant.sku, "counted": "", "add": "on"})
    assert session.lines.get().counted == d(2)

    client.post(page, {"sku": variant.sku, "counted": "5"})
    assert session.lines.get().counted == d(5)
    assert b"Counted quantity</label>" in client.get(page).content


def test_a_bad_count_is_refused_next_to_its_field(client, staff, warehouse, variant):
    receive(variant, warehouse, 6)
    session = start(warehouse)

    response = client.post(f"{URL}{session.pk}/", {"sku": variant.sku, "counted": "2.5"})

    assert response.status_code == 400
    assert response.context["entry_form"].errors["counted"] == [
        f"{variant.sku} is counted in whole pieces: 2.5 is not a whole number."
    ]
    assert session.lines.get().counted is None


def test_the_csv_sheet_lists_the_lines_without_their_expected_quantities(client, staff, warehouse):
    variant = VariantFactory(barcode="123456", name="Red")
    receive(variant, warehouse, 6)
    session = start(warehouse)

    response = client.get(f"{URL}{session.pk}/sheet.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["SKU", "Product", "Variant", "Barcode", "Counted quantity"],
        [variant.sku, variant.product.name, "Red", "123456", ""],
    ]
    assert response["Content-Disposition"].startswith("attachment;")


def test_the_printable_sheet_has_a_print_button_and_every_line(client, staff, warehouse):
    variants = VariantFactory.create_batch(3)
    for variant in variants:
        receive(variant, warehouse, 1)
    session = start(warehouse)

    html = client.get(f"{URL}{session.pk}/sheet/").content.decode()

    assert "window.print()" in html
    assert all(variant.sku in html for variant in variants)


def test_the_downloaded_sheet_filled_in_uploads_with_blank_lines_left_uncounted(
    client, staff, warehouse
):
    counted, blank = VariantFactory(), VariantFactory()
    receive(counted, warehouse, 6)
    receive(blank, warehouse, 6)
    session = start(warehouse)
    sheet = b"".join(client.get(f"{URL}{session.pk}/sheet.csv").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(sheet)))
    for row in rows[1:]:
        if row[0] == counted.sku:
            row[4] = "4"
    filled = io.StringIO()
    csv.writer(filled).writerows(rows)

    response = upload(client, session, filled.getvalue())

    assert response.status_code == 302
    assert dict(session.lines.values_list("variant_id", "counted")) == {
        counted.pk: d(4),
        blank.pk: None,
    }


def test_every_problem_in_a_count_upload_is_reported_and_nothing_is_recorded(
    client, staff, warehouse, variant
):
    receive(variant, warehouse, 6)
    session = start(warehouse)

    response = upload(
        client,
        session,
        f"SKU;Counted quantity\n{variant.sku};-1\nGHOST;3\n{variant.sku};2\n",
    )

    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"] == [
        "Line 2, counted quantity “-1”: The quantity cannot be negative.",
        "Line 3: unknown SKU “GHOST”.",
        f"Line 4: SKU {variant.sku} is already on line 2.",
    ]
    assert session.lines.get().counted is None


def test_a_sku_found_during_the_count_is_added_from_the_upload(client, staff, warehouse, variant):
    found = VariantFactory()
    receive(variant, warehouse, 6)
    session = start(warehouse)

    upload(client, session, f"SKU,Counted quantity\n{variant.sku},6\n{found.sku},2\n")

    line = session.lines.get(variant=found)
    assert (line.added, line.expected, line.counted) == (True, d(0), d(2))


def test_the_gaps_screen_flags_big_gaps_and_lines_that_would_go_below_available(
    client, staff, warehouse
):
    small, big, reserved = VariantFactory(), VariantFactory(), VariantFactory()
    for variant in (small, big, reserved):
        receive(variant, warehouse, 20)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(reserved, 15)], reference="SO-1")
    session = start(warehouse, big_gap=d(5))
    count_record(session=session, variant=small, quantity=19)
    count_record(session=session, variant=big, quantity=30)
    count_record(session=session, variant=reserved, quantity=10)

    response = client.get(f"{URL}{session.pk}/gaps/")

    lines = {line.variant_id: line for line in response.context["page_obj"]}
    assert (lines[small.pk].big, lines[big.pk].big, lines[reserved.pk].big) == (False, True, True)
    assert lines[reserved.pk].goes_negative
    assert lines[reserved.pk].available_after == d(-5)
    assert response.context["summary"].would_go_negative == 1
    negative = client.get(f"{URL}{session.pk}/gaps/", {"show": "negative"})
    assert [line.variant_id for line in negative.context["page_obj"]] == [reserved.pk]


def test_applying_is_refused_while_a_line_would_go_below_available(client, staff, warehouse):
    variant = VariantFactory()
    receive(variant, warehouse, 20)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 15)], reference="SO-1")
    session = start(warehouse)
    count_record(session=session, variant=variant, quantity=10)

    response = client.post(f"{URL}{session.pk}/apply/", follow=True)

    assert "Nothing was applied: 1 lines would leave available stock below zero" in (
        response.content.decode()
    )
    session.refresh_from_db()
    assert session.status == CountStatus.OPEN
    assert line_of(variant, warehouse).on_hand == d(20)


def test_a_count_from_start_to_apply_is_applied_once(client, staff, warehouse):
    short, exact = VariantFactory(), VariantFactory()
    receive(short, warehouse, 10)
    receive(exact, warehouse, 3)
    session = start(warehouse)
    upload(client, session, f"SKU,Counted quantity\n{short.sku},7\n{exact.sku},3\n")

    first = client.post(f"{URL}{session.pk}/apply/")
    second = client.post(f"{URL}{session.pk}/apply/", follow=True)

    assert first["Location"] == f"{URL}{session.pk}/gaps/"
    movement = Movement.objects.get(reference=session.reference)
    assert (movement.quantity, movement.reason) == (d(-3), MovementReason.PHYSICAL_COUNT)
    assert line_of(short, warehouse).on_hand == d(7)
    assert "it cannot be changed any more" in second.content.decode()
    assert client.get(f"{URL}{session.pk}/gaps/").status_code == 200
    assert verify_ledger().ok


def test_cancelling_changes_nothing_in_stock(client, staff, warehouse, variant):
    receive(variant, warehouse, 3)
    session = start(warehouse)

    client.post(f"{URL}{session.pk}/cancel/")

    session.refresh_from_db()
    assert session.status == CountStatus.CANCELLED
    assert line_of(variant, warehouse).on_hand == d(3)


def test_staff_only_see_the_counts_of_their_warehouses(client, variant):
    mine, theirs = WarehouseFactory(), WarehouseFactory()
    user = UserFactory(role="Warehouse staff")
    mine.assigned_staff.add(user)
    receive(variant, theirs, 2)
    session = start(theirs)
    client.force_login(user)

    assert list(client.get(URL).context["sessions"]) == []
    for path in ("", "sheet/", "sheet.csv", "gaps/"):
        assert client.get(f"{URL}{session.pk}/{path}").status_code == 404
    assert client.post(f"{URL}{session.pk}/apply/").status_code == 404


def test_the_gaps_page_costs_a_constant_number_of_queries(
    client, staff, warehouse, django_assert_max_num_queries
):
    variants = VariantFactory.create_batch(60)
    for variant in variants:
        receive(variant, warehouse, 5)
    session = start(warehouse)
    for variant in variants:
        count_record(session=session, variant=variant, quantity=4)

    with django_assert_max_num_queries(12):
        client.get(f"{URL}{session.pk}/gaps/")
    with django_assert_max_num_queries(12):
        client.get(f"{URL}{session.pk}/")


def test_an_accountant_may_not_count(client, warehouse, variant):
    client.force_login(UserFactory(role="Accountant"))

    assert client.get(URL).status_code == 403


def test_the_gaps_screen_shows_what_moved_since_the_snapshot_with_a_link_to_it(
    client, staff, warehouse, variant
):
    receive(variant, warehouse, 10)
    session = start(warehouse)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-9")
    stock_ship(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-9")
    count_record(session=session, variant=variant, quantity=10)

    response = client.get(f"{URL}{session.pk}/gaps/", {"show": "all"})

    line = response.context["page_obj"][0]
    assert (line.gap_value, line.moved_now, line.after) == (d(0), d(-2), d(8))
    assert (
        f"/movements/?sku={variant.sku}&amp;warehouse={warehouse.code}&amp;from="
        f"{session.created_at:%Y-%m-%d}"
    ) in response.content.decode()


def test_the_big_gap_threshold_can_be_changed_while_counting(client, staff, warehouse, variant):
    receive(variant, warehouse, 3)
    session = start(warehouse)

    client.post(f"{URL}{session.pk}/big-gap/", {"big_gap": "12.5"})
    refused = client.post(f"{URL}{session.pk}/big-gap/", {"big_gap": "-1"}, follow=True)

    session.refresh_from_db()
    assert session.big_gap == d("12.5")
    assert "Ensure this value is greater than or equal to 0." in refused.content.decode()
