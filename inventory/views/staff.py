"""What the warehouse staff screens share: a form checked, previewed, then applied.

The first submit (button "Preview") validates the form and shows what will change, computed
by the server and written nowhere; the second (name="action" value="apply") calls the
service. Bad input re-renders the form with the errors next to their fields and status 400.
"""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import FormView

APPLY = "apply"


def shown(quantity) -> str:
    """A quantity as people write it in a message: 8, 2.5, 0.125 (not 8.000)."""
    return format(quantity.normalize(), "f")


class PreviewThenApplyView(PermissionRequiredMixin, FormView):
    """Subclasses define ``apply(form)`` returning the result, or None after adding errors
    to the form, and ``applied(form, result)`` returning the response."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        if self.request.POST.get("action") == APPLY:
            result = self.apply(form)
            if result is not None:
                return self.applied(form, result)
            return self.form_invalid(form)
        preview = self.preview(form)
        if form.errors:  # the preview found a refusal it can name before anything is tried
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, preview=preview))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def preview(self, form):
        """What will change; may add errors to the form instead."""
        return form.preview()

    def apply(self, form):
        raise NotImplementedError

    def applied(self, form, result):
        raise NotImplementedError
