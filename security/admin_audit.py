"""Audit for changes made through the Django admin's own forms, and their refusals."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from core.errors import ServiceError
from core.forms import BoundedJSONFormField
from security.models import admin_page_action
from security.services.audit import audit_record, field_changes


def _say_nothing_changed(model_admin, request: HttpRequest, error: ServiceError) -> None:
    model_admin.message_user(request, f"Nothing changed: {'; '.join(error.errors)}", messages.ERROR)


def unless_refused(
    model_admin, request: HttpRequest, view: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run an admin page's view in one transaction; when a service refuses the change
    (such as a cache that cannot take a revocation), all of it is undone, so say
    "Nothing changed" on the same page instead of answering with a server error."""
    try:
        with transaction.atomic():
            return view()
    except ServiceError as error:
        if request.method != "POST":
            raise
        _say_nothing_changed(model_admin, request, error)
        return HttpResponseRedirect(request.get_full_path())


def _plain(value: Any) -> Any:
    """A JSON-friendly stand-in for a form value (model instances become their pk)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, QuerySet | list | tuple):
        return [_plain(item) for item in value]
    return value


class AllOrNothingModelAdmin(admin.ModelAdmin):
    """Every form, delete page, action (Django's own "Delete selected", which writes
    the admin's log before it deletes, included) and list edit is one transaction,
    and a refused one says "Nothing changed" (`unless_refused`)."""

    formfield_overrides = {models.JSONField: {"form_class": BoundedJSONFormField}}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return unless_refused(
            self,
            request,
            lambda: super(AllOrNothingModelAdmin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
        )

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return unless_refused(
            self,
            request,
            lambda: super(AllOrNothingModelAdmin, self).changelist_view(request, extra_context),
        )

    def delete_view(self, request: HttpRequest, object_id, extra_context=None):
        return unless_refused(
            self,
            request,
            lambda: super(AllOrNothingModelAdmin, self).delete_view(
                request, object_id, extra_context
            ),
        )


class AuditedModelAdmin(AllOrNothingModelAdmin):
    """Writes an audit row, in the admin's transaction, for every add, change and delete."""

    def _action(self, verb: str) -> str:
        return admin_page_action(self.model._meta.model_name, verb)

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody may add, change or delete, whatever their permissions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
