"""The quick widgets render what Django's widgets render."""

import re

import pytest
from django import forms
from django.utils.safestring import mark_safe

from inventory.filters import OneCheckbox
from inventory.widgets import QuickNumberInput, QuickSelect, QuickTextInput

CHOICES = [("", "All warehouses"), ("PAR", "PAR – Paris <Nord> & “Est”"), ("LYO", "LYO – Lyon")]
ATTRS = [
    None,
    {"id": "id_x", "required": True, "disabled": False, "data-x": 'a "quoted" <b>'},
    {"placeholder": mark_safe("<i>safe</i>"), "type": "search"},
]
VALUES = [None, "", 'tote <b>&</b> "bag"', 12, mark_safe("<em>kept</em>"), "1", "true"]


def markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("value", [None, "", "LYO", "unknown"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_warehouse", "required": True, "data-x": "1"}])
def test_quick_select_renders_the_markup_of_django_select(value, attrs):
    expected = forms.Select(choices=CHOICES).render("warehouse", value, attrs)

    assert markup(QuickSelect(choices=CHOICES).render("warehouse", value, attrs)) == markup(
        expected
    )


def _checkbox(attrs=None):
    return forms.CheckboxInput(attrs, check_test=lambda value: value in (True, "1", "true", "True"))


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize(
    ("quick", "django"),
    [
        (QuickTextInput, forms.TextInput),
        (QuickNumberInput, forms.NumberInput),
        (OneCheckbox, _checkbox),
    ],
)
def test_quick_inputs_render_the_markup_of_django_inputs(quick, django, value, attrs):
    def built(widget):
        return widget(dict(attrs) if attrs else None)

    assert built(quick).render("q", value) == built(django).render("q", value)
    assert built(quick).render("q", value, {"id": "id_q"}) == built(django).render(
        "q", value, {"id": "id_q"}
    )
