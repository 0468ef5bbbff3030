"""FilterSets of the account lists (the query parameters of GET /api/v1/users)."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import User

USER_ORDERINGS = ["id", "-id", "created_at", "-created_at", "username", "-username", "email"]
USER_ORDERINGS += ["-email"]


class UserFilter(django_filters.FilterSet):
    """`search` (email, username or name contain it), exact `status`, `role` (name),
    `tenant` (id) and `plan`, a `created_after`/`created_before` window, and
    `ordering` (default `id`)."""

    search = django_filters.CharFilter(method="search_text", max_length=100)
    status = django_filters.ChoiceFilter(choices=User.Status.choices)
    role = django_filters.CharFilter(field_name="role__name", max_length=50)
    tenant = django_filters.NumberFilter(field_name="tenant_id", min_value=1)
    plan = django_filters.CharFilter(field_name="subscription_plan", max_length=50)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ordering = django_filters.ChoiceFilter(
        choices=[(value, value) for value in USER_ORDERINGS], method="order", empty_label=None
    )

    class Meta:
        model = User
        fields: list[str] = []

    def search_text(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(
            Q(email__icontains=value) | Q(username__icontains=value) | Q(name__icontains=value)
        )

    def order(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.order_by(value)

    def filter_queryset(self, queryset: QuerySet[User]) -> QuerySet[User]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by("id")
        return queryset
