"""Audit for changes made through the Django admin's own forms."""

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from security.audit import audit_record, field_changes


def _plain(value: Any) -> Any:
    """A JSON-friendly stand-in for a form value (model instances become their pk)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, QuerySet | list | tuple):
        return [_plain(item) for item in value]
    return value


class AuditedModelAdmin(admin.ModelAdmin):
    """Writes an audit row, in the admin's transaction, for every add, change and delete."""

    def _action(self, verb: str) -> str:
        return f"admin.{self.model._meta.model_name}.{verb}"

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        fields = list(form.changed_data)
        before = {field: _plain(form.initial.get(field)) for field in fields} if change else {}
        super().save_model(request, obj, form, change)
        after = {field: _plain(form.cleaned_data.get(field)) for field in fields}
        audit_record(
            action=self._action("update" if change else "create"),
            actor=request.user,
            target=obj,
            changes=field_changes(before, after),
        )

    def delete_model(self, request: HttpRequest, obj) -> None:
        with transaction.atomic():
            audit_record(action=self._action("delete"), actor=request.user, target=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit_record(action=self._action("delete"), actor=request.user, target=obj)
            super().delete_queryset(request, queryset)
