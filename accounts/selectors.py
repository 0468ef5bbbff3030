"""Reads of accounts, roles and login sessions, and what each actor may see of them."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.forms.models import model_to_dict
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.authz.roles import Permission
from accounts.authz.rules import is_platform_admin, permissions_of
from accounts.errors import AccountErrorCode
from accounts.exports import profile_row
from accounts.filters import UserFilter
from accounts.models import LoginSession, MfaChallenge, PreferenceChange, Role, User
from accounts.preferences import PLATFORM_DEFAULTS, effective_preferences
from core.errors import Forbidden, ValidationFailed
from credits.models import CreditLedgerEntry, PlanChange
from messagelog.selectors import messages_visible_to
from security.models import AuditLog, SecurityEvent


def users_scope(actor, permission: str = Permission.READ_USERS) -> tuple[str, int | None]:
    """Whose accounts `permission` reaches for the actor: every user (`"all"`, None),
    their tenant's (`"tenant"`, its id) or only their own (`"user"`, their id). The
    one rule behind `users_visible_to`, the caches keyed by what a caller sees, and
    narrower reaches such as billing (`manage:tenant`)."""
    if is_platform_admin(actor):
        return "all", None
    if permission in permissions_of(actor) and actor.tenant_id is not None:
        return "tenant", actor.tenant_id
    return "user", actor.pk


def users_in_scope(scope: tuple[str, int | None]) -> QuerySet[User]:
    kind, ident = scope
    users = User.objects.select_related("role", "tenant")
    if kind == "all":
        return users
    if kind == "tenant":
        return users.filter(tenant_id=ident)
    return users.filter(pk=ident)


def users_visible_to(actor) -> QuerySet[User]:
    """The users an actor may see: all, their tenant's, or only themselves. Others are 404."""
    return users_in_scope(users_scope(actor))


def users_list(*, actor, filters: dict, keyset: bool = False) -> QuerySet[User]:
    """The users an actor may see, filtered and ordered by the list's query parameters
    (already validated by the API: see `accounts.filters.UserFilter`). `search` matches
    an email only where the actor may see it (`privacy.show_email`), and an `email`
    ordering sorts only the addresses they see (hidden ones last, by id), so a hidden
    address can be neither searched for nor placed between known ones; for the same
    reason keyset pages (`keyset`, whose cursor carries the last row's sort value) are
    ordered by email only for a viewer who sees every email."""
    users = users_visible_to(actor)
    if (
        keyset
        and filters.get("ordering", "").lstrip("-") == "email"
        and not sees_every_email(actor)
    ):
        raise ValidationFailed(
            errors=["ordering: email order is offered with `page`, not with `cursor`"]
        )
    search = filters.get("search")
    hides_emails = not sees_every_email(actor)
    if search and hides_emails:
        filters = {key: value for key, value in filters.items() if key != "search"}
        users = users.filter(
            Q(username__icontains=search)
            | Q(name__icontains=search)
            | (Q(email__icontains=search) & EMAIL_SHOWN)
        )
    email_ordering = filters.get("ordering") if hides_emails else None
    if email_ordering in ("email", "-email"):
        filters = {key: value for key, value in filters.items() if key != "ordering"}
    else:
        email_ordering = None
    filterset = UserFilter(filters, queryset=users)
    if not filterset.is_valid():
        raise ValidationFailed(
            errors=[
                f"{name}: {message}"
                for name, messages in filterset.errors.items()
                for message in messages
            ]
        )
    if email_ordering:
        shown = Case(When(EMAIL_SHOWN, then=F("email")), default=None, output_field=CharField())
        order = shown.desc if email_ordering.startswith("-") else shown.asc
        return filterset.qs.order_by(order(nulls_last=True), "id")
    return filterset.qs


# ----- privacy: who sees a user's email and profile ------------------------------------

# The users whose effective `privacy.show_email` is true: their own choice, else their
# tenant's default, else the platform's (written positively: a missing key is SQL NULL).
_OWN_CHOICE_MISSING = Q(preferences__privacy__show_email__isnull=True)
_TENANT_DEFAULT_SHOWS = (
    Q(tenant__isnull=True)
    | Q(tenant__settings__default_preferences__privacy__show_email__isnull=True)
    | Q(tenant__settings__default_preferences__privacy__show_email=True)
)
EMAIL_SHOWN = Q(preferences__privacy__show_email=True) | (
    _OWN_CHOICE_MISSING & _TENANT_DEFAULT_SHOWS
    if PLATFORM_DEFAULTS["privacy"]["show_email"]
    else Q(tenant__settings__default_preferences__privacy__show_email=True)
)


def sees_every_email(viewer) -> bool:
    """Platform admins, and tenant admins (`manage:tenant`) over their own tenant (the
    only users they see), see every address whatever the user chose."""
    return Permission.MANAGE_TENANT in permissions_of(viewer) or is_platform_admin(viewer)


def email_visible_to(viewer, user: User) -> bool:
    """Whether `viewer` may see `user`'s email: the owner and admins always (platform
    admins, the admins of the user's tenant); anyone else only when the user's
    effective `privacy.show_email` is true."""
    if viewer is None:
        return False
    if viewer.pk == user.pk:
        return True
    if Permission.MANAGE_TENANT in permissions_of(viewer) and (
        viewer.tenant_id is not None and viewer.tenant_id == user.tenant_id
    ):
        return True
    if is_platform_admin(viewer):
        return True
    return bool(effective_preferences(user)["privacy"]["show_email"])


def user_profile_visible(*, viewer, pk: int) -> User | None:
    """Another user's profile as `privacy.profile_visibility` allows: `public` for any
    signed-in user, `tenant` for members of the same tenant, `private` for nobody; the
    owner and admins (platform, or of the user's tenant) always. None otherwise (a 404:
    a hidden profile and a missing one look the same)."""
    user = User.objects.select_related("tenant").filter(pk=pk, status=User.Status.ACTIVE).first()
    if user is None:
        return None
    if user.pk == viewer.pk or is_platform_admin(viewer):
        return user
    same_tenant = viewer.tenant_id is not None and viewer.tenant_id == user.tenant_id
    if same_tenant and Permission.MANAGE_TENANT in permissions_of(viewer):
        return user
    visibility = effective_preferences(user)["privacy"]["profile_visibility"]
    if visibility == "public" or (visibility == "tenant" and same_tenant):
        return user
    return None


def preference_changes_of(user: User) -> QuerySet[PreferenceChange]:
    """The history of a user's preferences, newest first (index prefchange_user_newest_idx)."""
    return PreferenceChange.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def roles_visible_to(actor) -> QuerySet[Role]:
    """The built-in roles and the actor's tenant's roles; every role for platform admins."""
    roles = Role.objects.select_related("tenant")
    if is_platform_admin(actor):
        return roles
    return roles.filter(tenant__isnull=True) | roles.filter(tenant_id=actor.tenant_id)


def sessions_visible_to(actor) -> QuerySet[LoginSession]:
    """The live login sessions an actor sees under /api/v1/users/me/sessions: their own."""
    return login_sessions_active_for_user(user=actor)


def other_sessions_of(actor, *, current_session_id: str) -> QuerySet[LoginSession]:
    """The actor's live sessions but the one making the request."""
    return sessions_visible_to(actor).exclude(pk=current_session_id)


def user_get_by_identifier(identifier: str) -> User | None:
    """The account whose email or username matches, ignoring letter case.

    Uses the functional unique indexes on LOWER(email) and LOWER(username).
    """
    value = identifier.strip().lower()
    lookup = {"email__lower": value} if "@" in value else {"username__lower": value}
    return User.objects.select_related("role", "tenant").filter(**lookup).first()


def user_email_taken(email: str, *, exclude_id: int | None = None) -> bool:
    return User.objects.filter(email__lower=email.lower()).exclude(pk=exclude_id).exists()


def user_username_taken(username: str, *, exclude_id: int | None = None) -> bool:
    return User.objects.filter(username__lower=username.lower()).exclude(pk=exclude_id).exists()


def login_sessions_active_for_user(*, user: User) -> QuerySet[LoginSession]:
    return LoginSession.objects.filter(user=user, revoked_at__isnull=True)


USER_STATISTICS_CACHE_SECONDS = 60


def user_statistics(*, actor, since=None, until=None) -> dict:
    """`user_statistics_now`, kept in the cache for USER_STATISTICS_CACHE_SECONDS
    per scope (every user, a tenant's, or the caller alone) and window: the figures
    are exact as of their `generated_at`, at most that old. Counting a million users
    takes over a second; a dashboard polling it should not pay that each time."""
    kind, ident = users_scope(actor)
    scope = kind if ident is None else f"{kind}:{ident}"
    key = f"user-statistics:{scope}:{since}:{until}"
    figures = cache.get(key)
    if figures is None:
        figures = user_statistics_now(actor=actor, since=since, until=until)
        cache.set(key, figures, USER_STATISTICS_CACHE_SECONDS)
    return figures


def user_statistics_now(*, actor, since=None, until=None) -> dict:
    """Totals by status, role, tenant, plan and verification, and sign-ups per day.

    Of the users the actor may see, in two queries whatever the table's size. On
    PostgreSQL for every user or a tenant's, from the running totals the database
    keeps in the same transaction as the users (`user_tally_groups`, migration
    0014): exact, and a few hundred rows to read. Otherwise one pass grouping the
    users by all five at once, and the sign-ups of the window through
    user_created_idx (`since`/`until` are UTC dates, both included).
    """
    kind, ident = users_scope(actor)
    tallied = tallies_kept() and kind in ("all", "tenant")
    users = users_in_scope((kind, ident)).order_by()
    fields = ("status", "role_id", "tenant_id", "subscription_plan", "is_verified")
    totals: dict[str, Counter] = {field: Counter() for field in fields}
    if tallied:
        groups = user_tally_groups(tenant_id=ident)
    else:
        groups = users.values(*fields).annotate(count=Count("pk"))
    for row in groups:
        for field in fields:
            totals[field][row[field]] += row["count"]
    role_names = dict(
        Role.objects.filter(pk__in=[pk for pk in totals["role_id"] if pk is not None]).values_list(
            "pk", "name"
        )
    )
    by_role: Counter = Counter()
    for role_id, count in totals["role_id"].items():
        by_role[role_names.get(role_id, "none")] += count

    def named(counter: Counter) -> dict:
        return {"none" if key is None else str(key): count for key, count in counter.items()}

    if tallied and timezone.get_current_timezone_name() == "UTC":
        per_day = signup_tally_per_day(tenant_id=ident, since=since, until=until)
    else:
        signups = users
        if since is not None:
            signups = signups.filter(created_at__gte=_utc_midnight(since))
        if until is not None:
            signups = signups.filter(created_at__lt=_utc_midnight(until + timedelta(days=1)))
        per_day = (
            signups.order_by()
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(count=Count("id"))
            .order_by("day")
        )
    return {
        "generated_at": timezone.now(),
        "total": sum(totals["status"].values()),
        "by_status": named(totals["status"]),
        "by_role": named(by_role),
        "by_tenant": named(totals["tenant_id"]),
        "by_plan": named(totals["subscription_plan"]),
        "by_verified": named(totals["is_verified"]),
        "signups_per_day": [{"date": row["day"], "count": row["count"]} for row in per_day],
    }


def tallies_kept() -> bool:
    """Whether the database keeps running totals of the large tables (PostgreSQL:
    the triggers of accounts 0014 and messagelog 0004)."""
    return connection.vendor == "postgresql"


def user_tally_groups(*, tenant_id: int | None = None) -> list[dict]:
    """How many users share each status, role, tenant, plan and verification (of one
    tenant, or all), from the running totals: `{status, role_id, tenant_id,
    subscription_plan, is_verified, count}` per combination in use. PostgreSQL only."""
    where, params = ("WHERE tenant_id = %s", [tenant_id]) if tenant_id is not None else ("", [])
    with connection.cursor() as cursor:
        columns = "status, nullif(role_id, 0), nullif(tenant_id, 0), subscription_plan"
        cursor.execute(
            f"SELECT {columns}, is_verified, users FROM accounts_user_tally {where}",  # noqa: S608 (constant SQL)
            params,
        )
        names = ("status", "role_id", "tenant_id", "subscription_plan", "is_verified", "count")
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall() if row[-1]]


def signup_tally_per_day(*, tenant_id=None, since=None, until=None) -> list[dict]:
    """`[{day, count}]`, oldest first: the users created on each UTC day (of one tenant,
    or all; `since`/`until` UTC dates, both included), from the running totals. A day
    whose users are all gone is left out, as a count would. PostgreSQL only."""
    conditions, params = [], []
    for condition, value in (("tenant_id = %s", tenant_id), ("day >= %s", since)):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    if until is not None:
        conditions.append("day <= %s")
        params.append(until)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day, sum(users)::bigint FROM accounts_user_signup_tally {where} "  # noqa: S608 (constant SQL)
            "GROUP BY day HAVING sum(users) > 0 ORDER BY day",
            params,
        )
        return [{"day": day, "count": count} for day, count in cursor.fetchall()]


def signups_since(starts: dict[str, datetime]) -> dict[str, int]:
    """`{window: users created since its start}`, exact, in two queries whatever the
    table's size: the whole UTC days after each start from the running totals, the
    rest of the start's own day counted through user_created_idx (nothing when the
    window starts at midnight UTC). PostgreSQL only (`tallies_kept`)."""
    whole_days = {name: _whole_utc_days_from(start) for name, start in starts.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT day, sum(users)::bigint FROM accounts_user_signup_tally "
            "WHERE day >= %s GROUP BY day",
            [min(whole_days.values())],
        )
        per_day = cursor.fetchall()
    partial = {
        f"partial_{name}": Count(
            "pk",
            filter=Q(created_at__gte=start, created_at__lt=_utc_midnight(whole_days[name])),
        )
        for name, start in starts.items()
        if whole_days[name] != start.astimezone(UTC).date()
    }
    bounds = Q()
    for name, start in starts.items():
        if f"partial_{name}" in partial:
            bounds |= Q(created_at__gte=start, created_at__lt=_utc_midnight(whole_days[name]))
    counted = User.objects.order_by().filter(bounds).aggregate(**partial) if partial else {}
    return {
        name: sum(count for day, count in per_day if day >= whole_days[name])
        + counted.get(f"partial_{name}", 0)
        for name in starts
    }


def _whole_utc_days_from(start: datetime) -> date:
    """The first UTC day wholly inside a window beginning at `start`."""
    utc = start.astimezone(UTC)
    return utc.date() if utc.time() == time.min else utc.date() + timedelta(days=1)


# The columns the admin's user search reads; migration 0013 gives each a trigram index.
USER_SEARCH_COLUMNS = ("username", "email", "name", "first_name", "last_name")
# pg_trgm indexes a pattern by its three-letter pieces: a shorter word has none
# inside a value, only at its start (the index pads each value's beginning).
TRIGRAM_LENGTH = 3


def _like_pattern(word: str) -> str:
    """`%word%` for LIKE, its own `%`, `_` and `\\` taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%" if len(word) >= TRIGRAM_LENGTH else f"{escaped}%"


# A word found in fewer rows than this is rare: its ids are fetched first.
RARE_WORD_ROWS = 2_000


def _word_selects(word: str) -> tuple[str, list[str]]:
    """One SELECT of ids per searched column, each served by its column's trigram
    index alone (the expression `UPPER(col::text)` of migration 0013)."""
    selects = [
        f'SELECT id FROM accounts_user WHERE UPPER("{column}"::text) LIKE UPPER(%s)'  # noqa: S608 (constant column names; the word is a parameter)
        for column in USER_SEARCH_COLUMNS
    ]
    return selects, [_like_pattern(word)] * len(selects)


def user_ids_if_rare(word: str) -> list[int] | None:
    """The ids of the users matching `word` when fewer than RARE_WORD_ROWS rows
    hold it, else None. PostgreSQL only.

    Counted first through the indexes with a LIMIT (the heap is read for those
    rows only), so a broad word costs no more than a rare one to rule out."""
    selects, params = _word_selects(word)
    with connection.cursor() as cursor:
        hits = " UNION ALL ".join(selects)
        cursor.execute(
            f"SELECT count(*) FROM ({hits} LIMIT %s) AS hits",  # noqa: S608 (as above)
            [*params, RARE_WORD_ROWS],
        )
        if cursor.fetchone()[0] >= RARE_WORD_ROWS:
            return None
        cursor.execute(" UNION ".join(selects), params)
        return [row[0] for row in cursor.fetchall()]


def user_ids_if_rare_together(words: list[str]) -> list[int] | None:
    """The ids of the users matching every one of `words` (each in any searched
    column) when fewer than RARE_WORD_ROWS do, else None. PostgreSQL only.

    For words each common but rare together (a first and a last name): the
    planner ANDs the words' trigram bitmaps (each an OR over the columns' indexes)
    before reading the table, so only the rows holding every word's trigrams are
    read, not each word's thousands."""
    conditions, params = [], []
    for word in words:
        pattern = _like_pattern(word)
        conditions.append(
            "("
            + " OR ".join(
                f'UPPER("{column}"::text) LIKE UPPER(%s)' for column in USER_SEARCH_COLUMNS
            )
            + ")"
        )
        params.extend([pattern] * len(USER_SEARCH_COLUMNS))
    where = " AND ".join(conditions)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM accounts_user WHERE {where} LIMIT %s",  # noqa: S608 (constant column names; the words are parameters)
            [*params, RARE_WORD_ROWS],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return None if len(ids) >= RARE_WORD_ROWS else ids


def _word_matches(word: str) -> Q:
    lookup = "icontains" if len(word) >= TRIGRAM_LENGTH else "istartswith"
    any_column = Q()
    for column in USER_SEARCH_COLUMNS:
        any_column |= Q(**{f"{column}__{lookup}": word})
    return any_column


def users_matching(users: QuerySet[User], words: list[str]) -> QuerySet[User]:
    """`users` narrowed to those matching every word: one of whose
    USER_SEARCH_COLUMNS contains the word (three characters or more) or starts with
    it (one or two), ignoring letter case.

    A broad word is left to the planner, which walks the page's order and meets
    matches soon. A rare one is not: the planner may walk a million rows testing
    each for it, or AND several words' trigram bitmaps. So on PostgreSQL the
    rarest word's ids are found first (`user_ids_if_rare`) and the page fetches
    those rows by primary key, testing the other words on them alone; when every
    word is common, the ids of the rows holding them all, if those are few
    (`user_ids_if_rare_together`)."""
    if connection.vendor == "postgresql":
        ids = None
        for word in sorted(words, key=len, reverse=True):
            ids = user_ids_if_rare(word)
            if ids is not None:
                break
        if ids is None and len(words) > 1:
            ids = user_ids_if_rare_together(words)
        if ids is not None:
            array = Value(ids, output_field=ArrayField(BigIntegerField()))
            users = users.filter(_AnyOf(F("pk"), array))
    for word in words:
        users = users.filter(_word_matches(word))
    return users


class _AnyOf(Func):
    """`<column> = ANY(<array>)`."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def purged_user_ids(user_ids) -> set[int]:
    """Which of these users have been erased; their conversations must stay anonymous."""
    return set(
        User.objects.filter(pk__in=set(user_ids), purged_at__isnull=False).values_list(
            "pk", flat=True
        )
    )


def account_status_error(user: User) -> Forbidden | None:
    """Why this account may not hold a session, or None when it may."""
    if user.status == User.Status.SUSPENDED:
        return Forbidden("This account is suspended.", code=AccountErrorCode.ACCOUNT_SUSPENDED)
    if user.status == User.Status.PENDING:
        return Forbidden(
            "This account is pending activation.", code=AccountErrorCode.ACCOUNT_PENDING
        )
    if user.status == User.Status.DELETED:
        return Forbidden(
            "This account was deleted; it can be recovered through /api/v1/auth/recover-account.",
            code=AccountErrorCode.ACCOUNT_DELETED,
        )
    if user.tenant_id is not None and not user.tenant.is_active:
        return Forbidden(
            "This account's organisation is deactivated.", code=AccountErrorCode.TENANT_INACTIVE
        )
    return None


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def user_has_mfa(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_challenge_identifier(token: str) -> str | None:
    """The identifier typed at the password step of a live challenge, or None."""
    return (
        MfaChallenge.objects.filter(
            token_digest=MfaChallenge.digest_of(token or ""),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .values_list("identifier", flat=True)
        .first()
    )


_SESSION_FIELDS = (
    "id",
    "ip_address",
    "user_agent",
    "remember_me",
    "mfa_verified",
    "created_at",
    "last_seen_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
)
_AUDIT_FIELDS = (
    "occurred_at",
    "actor_kind",
    "action",
    "target_type",
    "target_id",
    "changes",
    "ip_address",
    "user_agent",
)

# What the owner's export shows of a key: never its digest (nor the secret, kept nowhere).
_API_KEY_FIELDS = (
    "name",
    "scopes",
    "is_primary",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
)


_CONVERSATION_FIELDS = (
    "id",
    "timestamp",
    "model",
    "messages",
    "research_enabled",
    "r_type",
    "tokens_used",
    "processing_time_ms",
    "ip_address",
)


def personal_data_export(*, user: User) -> dict:
    """Profile, preferences and their history, sessions, MFA status, API-key metadata,
    the credit ledger, billing (plan, billing email, plan history), audit records,
    security events and conversations of the person; later features add their
    sections here."""
    about_user = AuditLog.objects.filter(target_type=User._meta.label_lower, target_id=str(user.pk))
    by_user = AuditLog.objects.filter(actor_id=user.pk)
    return {
        "exported_at": timezone.now(),
        "profile": profile_row(user),
        "preferences": user.preferences,
        "preference_history": list(
            preference_changes_of(user).values(
                "source", "actor_id", "before", "after", "created_at"
            )
        ),
        "mfa": {"totp_enabled": user_has_mfa(user)},
        "login_sessions": [
            model_to_dict(session, fields=_SESSION_FIELDS) | {"id": str(session.pk)}
            for session in user.login_sessions.order_by("-created_at")
        ],
        "api_keys": [
            {
                "key": key.masked,
                **model_to_dict(key, fields=_API_KEY_FIELDS),
            }
            for key in user.api_keys.order_by("-created_at")
        ],
        "credit_history": list(
            CreditLedgerEntry.objects.filter(account__user_id=user.pk)
            .order_by("-created_at", "-id")
            .values("kind", "reason", "before", "after", "actor_id", "created_at")
        ),
        "billing": {
            "plan": user.subscription_plan_id,
            "billing_email": user.billing_email,
            "plan_history": list(
                PlanChange.objects.filter(user_id=user.pk)
                .order_by("-created_at", "-id")
                .values("from_plan", "to_plan", "reason", "actor_id", "created_at")
            ),
        },
        "audit_records": list((about_user | by_user).distinct().values(*_AUDIT_FIELDS)),
        "security_events": list(
            SecurityEvent.objects.filter(user_id=user.pk).values(
                "occurred_at", "kind", "severity", "ip_address", "path"
            )
        ),
        "conversations": list(messages_visible_to(user).values(*_CONVERSATION_FIELDS)),
    }
