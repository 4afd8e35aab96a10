from django import forms

from .models import Stage


class OrderStageForm(forms.Form):
    """Move an order to one of the stages it may reach now (``stages``)."""

    stage = forms.ChoiceField(label="Stage")

    def __init__(self, *args, stages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Stage.choices)
        self.fields["stage"].choices = [(stage, labels[stage]) for stage in stages]
