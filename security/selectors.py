"""Reads of the security records, filtered as the admin panel asks.

The records are platform-wide: who may read them at all is the caller's rule (the
admin panel admits platform admins only), so `*_visible_to(actor)` is every row.
List filters are FilterSets fed the query parameters the API layer has validated.
"""

from typing import Any

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, QuerySet, Sum

from core.errors import ValidationFailed
from security.lockout import account_id_of_key, recent_attempts
from security.models import AuditLog, IPAllowlistEntry, IPBlock, SecurityEvent, Severity


class _TimeRangeFilter(django_filters.FilterSet):
    since = django_filters.DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = django_filters.DateTimeFilter(field_name="occurred_at", lookup_expr="lt")


class SecurityEventFilter(_TimeRangeFilter):
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    kind = django_filters.ChoiceFilter(choices=SecurityEvent.Kind.choices)
    user_id = django_filters.NumberFilter(field_name="user_id")
    username = django_filters.CharFilter(method="filter_username")
    ip = django_filters.CharFilter(field_name="ip_address")

    class Meta:
        model = SecurityEvent
        fields: list[str] = []

    def filter_username(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(username=value.strip().lower())


class AuditLogFilter(_TimeRangeFilter):
    actor_id = django_filters.NumberFilter(field_name="actor_id")
    action = django_filters.CharFilter(field_name="action")
    target_type = django_filters.CharFilter(field_name="target_type")
    target_id = django_filters.CharFilter(field_name="target_id")
    tenant_id = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = AuditLog
        fields: list[str] = []


def _filtered(filterset_class, filters: dict[str, Any], queryset: QuerySet) -> QuerySet:
    filterset = filterset_class(filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationFailed(
            "Invalid query parameters.",
            errors=[
                f"{field}: {error}" for field, errs in filterset.errors.items() for error in errs
            ],
        )
    return filterset.qs


def security_events_visible_to(actor) -> QuerySet[SecurityEvent]:
    return SecurityEvent.objects.all()


def audit_logs_visible_to(actor) -> QuerySet[AuditLog]:
    return AuditLog.objects.all()


def allowlist_entries_visible_to(actor) -> QuerySet[IPAllowlistEntry]:
    return IPAllowlistEntry.objects.all()


def ip_blocks_visible_to(actor) -> QuerySet[IPBlock]:
    return IPBlock.objects.all()


def security_events_list(*, actor, filters: dict[str, Any]) -> QuerySet[SecurityEvent]:
    return _filtered(SecurityEventFilter, filters, security_events_visible_to(actor))


def audit_logs_list(*, actor, filters: dict[str, Any]) -> QuerySet[AuditLog]:
    return _filtered(AuditLogFilter, filters, audit_logs_visible_to(actor))


def allowlist_entries_list(*, actor) -> QuerySet[IPAllowlistEntry]:
    return allowlist_entries_visible_to(actor)


def ip_blocks_list(*, actor, include_inactive: bool = False) -> QuerySet[IPBlock]:
    blocks = ip_blocks_visible_to(actor)
    return blocks if include_inactive else blocks.active()


def locked_accounts(*, actor) -> list[dict]:
    """Accounts (and unknown identifiers) locked now, named so an operator knows them.

    `identifier` is the account's username (or the unknown identifier as typed),
    which the unlock endpoint takes back; `key` is the counter's own name.
    """
    rows = list(
        recent_attempts()
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last")
    )
    ids = [account_id_of_key(row["username"]) for row in rows]
    accounts = get_user_model()._default_manager.in_bulk([pk for pk in ids if pk is not None])
    result = []
    for row, account_id in zip(rows, ids, strict=True):
        key = row["username"]
        user = accounts.get(account_id)
        result.append(
            {
                "identifier": user.username if user else key,
                "key": key,
                "user_id": user.pk if user else None,
                "email": user.email if user else None,
                "failures": row["failures"],
                "locked_until": row["last"] + settings.AXES_COOLOFF_TIME,
            }
        )
    return result
