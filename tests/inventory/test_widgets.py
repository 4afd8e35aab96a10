"""QuickSelect renders what Django's Select renders."""

import re

import pytest
from django import forms

from inventory.widgets import QuickSelect

CHOICES = [("", "All warehouses"), ("PAR", "PAR – Paris <Nord> & “Est”"), ("LYO", "LYO – Lyon")]


def markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("value", [None, "", "LYO", "unknown"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_warehouse", "required": True, "data-x": "1"}])
def test_quick_select_renders_the_markup_of_django_select(value, attrs):
    expected = forms.Select(choices=CHOICES).render("warehouse", value, attrs)

    assert markup(QuickSelect(choices=CHOICES).render("warehouse", value, attrs)) == markup(
        expected
    )
