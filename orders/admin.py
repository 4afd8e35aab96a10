"""Orders in the admin: read-only (an order changes stage only through the pipeline, which
moves its stock); the pipeline settings are one editable row."""

from django import forms
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse

from warehouses.admin import VisibleWarehouseFilter

from .models import (
    RELEASE_STAGE_CHOICES,
    Order,
    OrderLine,
    OrderStageChange,
    PipelineSettings,
    Stage,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("variant", "quantity", "reserved", "shipped", "restocked")
    readonly_fields = fields


class OrderStageChangeInline(ReadOnlyInline):
    model = OrderStageChange
    fields = ("created_at", "from_stage", "to_stage", "user", "api_token")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("reference", "warehouse", "stage", "created_at", "stage_changed_at")
    list_filter = ("stage", ("warehouse", VisibleWarehouseFilter))
    search_fields = ("reference", "lines__variant__sku")
    list_select_related = ("warehouse",)
    date_hierarchy = "created_at"
    fields = ("reference", "warehouse", "stage", "created_at", "stage_changed_at", "created_by")
    readonly_fields = fields
    inlines = (OrderLineInline, OrderStageChangeInline)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PipelineSettingsForm(forms.ModelForm):
    release_stages = forms.MultipleChoiceField(
        label="Release at",
        choices=[(str(stage), stage.label) for stage in RELEASE_STAGE_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        required=False,  # cancelled is added back in any case
        help_text=PipelineSettings._meta.get_field("release_stages").help_text,
    )

    class Meta:
        model = PipelineSettings
        fields = ("reserve_stage", "deduct_stage", "release_stages")

    def clean_release_stages(self):
        stages = set(self.cleaned_data["release_stages"]) | {str(Stage.CANCELLED)}
        return [str(stage) for stage in RELEASE_STAGE_CHOICES if str(stage) in stages]


@admin.register(PipelineSettings)
class PipelineSettingsAdmin(admin.ModelAdmin):
    form = PipelineSettingsForm

    def changelist_view(self, request, extra_context=None):
        # One row: the list would only ever link to it.
        settings = PipelineSettings.load()
        return redirect(reverse("admin:orders_pipelinesettings_change", args=[settings.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
