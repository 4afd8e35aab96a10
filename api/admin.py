"""API tokens in the admin: created here (the token is shown once, in a message), listed by
their prefix, deleted to revoke them. Only a superuser manages other users' tokens."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from .models import ApiToken

MSG_TOKEN_CREATED = (
    "The new API token for %(user)s is: %(token)s — copy it now, it will not be shown again "
    "(only its hash is stored). Clients send it as the header Authorization: Bearer <token>."
)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "label", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name")
    readonly_fields = ("label", "created_at", "last_used_at")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return ("user", "name", "label", "created_at", "last_used_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # A token acts as its user: nobody but a superuser may mint one for someone else.
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False  # a token is revoked (deleted) and replaced, never edited

    def save_model(self, request, obj, form, change):
        if change:
            return
        if not request.user.is_superuser:
            obj.user = request.user
        secret = obj.generate()
        super().save_model(request, obj, form, change)
        messages.warning(request, MSG_TOKEN_CREATED % {"user": obj.user, "token": secret})

    @admin.display(description="token starts with")
    def label(self, obj):
        return obj.label
