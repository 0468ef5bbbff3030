"""Reads of the security records, filtered as the admin panel asks."""

from typing import Any

from django.db.models import QuerySet

from security.models import AuditLog, IPAllowlistEntry, IPBlock, SecurityEvent


def _time_range(queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
    if filters.get("since"):
        queryset = queryset.filter(occurred_at__gte=filters["since"])
    if filters.get("until"):
        queryset = queryset.filter(occurred_at__lt=filters["until"])
    return queryset


def security_events_list(*, filters: dict[str, Any]) -> QuerySet[SecurityEvent]:
    queryset = SecurityEvent.objects.all()
    exact = {
        "severity": "severity",
        "kind": "kind",
        "user_id": "user_id",
        "ip": "ip_address",
    }
    for name, field in exact.items():
        if filters.get(name) not in (None, ""):
            queryset = queryset.filter(**{field: filters[name]})
    if filters.get("username"):
        queryset = queryset.filter(username=filters["username"].strip().lower())
    return _time_range(queryset, filters)


def audit_logs_list(*, filters: dict[str, Any]) -> QuerySet[AuditLog]:
    queryset = AuditLog.objects.all()
    for name in ("actor_id", "action", "target_type", "target_id", "tenant_id"):
        if filters.get(name) not in (None, ""):
            queryset = queryset.filter(**{name: filters[name]})
    return _time_range(queryset, filters)


def allowlist_entries_list() -> QuerySet[IPAllowlistEntry]:
    return IPAllowlistEntry.objects.all()


def ip_blocks_list(*, include_inactive: bool = False) -> QuerySet[IPBlock]:
    return IPBlock.objects.all() if include_inactive else IPBlock.objects.active()
