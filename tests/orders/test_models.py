"""orders.models: the pipeline settings refuse what makes no sense, and stay a single row."""

import pytest
from django.core.exceptions import ValidationError

from orders.models import PipelineSettings, Stage
from tests.orders.helpers import configure

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reserve_stage": "shipped", "deduct_stage": "confirmed"}, "deduct_stage"),
        ({"release_stages": ["returned"]}, "release_stages"),
        ({"release_stages": ["cancelled", "delivered"]}, "release_stages"),
    ],
)
def test_pipeline_settings_refuse_what_makes_no_sense(pipeline, fields, field):
    with pytest.raises(ValidationError) as refused:
        configure(**fields)
    assert field in refused.value.message_dict
    assert PipelineSettings.load().reserve_stage == Stage.CONFIRMED


def test_the_pipeline_settings_are_a_single_row(pipeline):
    PipelineSettings(reserve_stage=Stage.NEW).save()
    assert PipelineSettings.objects.count() == 1
    assert PipelineSettings.load().reserve_stage == Stage.NEW
