"""The demo rows, table by table, made one at a time.

Every user attribute another table needs (id, name, join date, status, last login,
session ids) is a pure function of (seed, index), so the tables are written one after
the other without holding a list of users. Random choices inside one table come from
that table's own `random.Random`, seeded from the run's seed: the same seed and the
same `as_of` give the same rows.
"""

import base64
import hashlib
import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from accounts.authz.roles import BuiltinRole
from accounts.models import LoginSession, Role, User
from apikeys.models import APIKey
from credits.models import CreditAccount, CreditLedgerEntry
from messagelog.models import MessageLog
from security.models import ActorKind, AuditAction, AuditLog
from support.demo_data import vocabulary as words
from support.demo_data.vocabulary import mix
from tenants.models import Tenant

# ---------------------------------------------------------------------------
# The columns each table is written with, in COPY order. A model field left out
# here gets its Django default (or NULL) on every row, see `loader.table_tail`;
# a NOT NULL field with neither stops the command before it writes anything.
# ---------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "tenants": (
        "id", "created_at", "updated_at", "name", "slug", "description", "domain",
        "is_active", "settings",
    ),
    "roles": (
        "id", "created_at", "updated_at", "name", "description", "tenant_id", "permissions",
        "is_builtin",
    ),
    "users": (
        "id", "password", "last_login", "is_superuser", "created_at", "updated_at", "username",
        "email", "name", "first_name", "last_name", "status", "user_type", "about_me",
        "hobbies", "subscription_plan_id", "preferences", "is_verified", "is_staff",
        "support_level", "tenant_id", "role_id", "password_changed_at", "pending_email",
        "deleted_at", "deleted_by_id", "status_before_deletion", "purged_at",
    ),
    "login_sessions": (
        "id", "user_id", "ip_address", "user_agent", "remember_me", "surface", "refresh_jti",
        "created_at", "last_seen_at", "expires_at", "revoked_at", "revoked_reason",
        "mfa_verified",
    ),
    "api_keys": (
        "user_id", "name", "prefix", "last4", "digest", "scopes", "is_primary", "created_at",
        "expires_at", "last_used_at", "revoked_at",
    ),
    "credit_accounts": (
        "id", "user_id", "main_credits", "main_reset", "conversation_limit",
        "conversation_reset", "used_today", "last_reset_on", "updated_at",
    ),
    "credit_ledger": ("account_id", "actor_id", "kind", "reason", "before", "after", "created_at"),
    "audit_log": (
        "occurred_at", "actor_id", "actor_kind", "actor_label", "action", "target_type",
        "target_id", "tenant_id", "changes", "ip_address", "user_agent", "request_id",
    ),
    "message_log": (
        "id", "timestamp", "user_id", "username", "email", "model", "messages",
        "research_enabled", "r_type", "tokens_used", "processing_time_ms", "ip_address",
    ),
}  # fmt: skip

MODELS = {
    "tenants": Tenant,
    "roles": Role,
    "users": User,
    "login_sessions": LoginSession,
    "api_keys": APIKey,
    "credit_accounts": CreditAccount,
    "credit_ledger": CreditLedgerEntry,
    "audit_log": AuditLog,
    "message_log": MessageLog,
}

# The two accounts a fresh demo database starts with (index 0 and 1).
DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_ADMIN_USERNAME = "demo-admin"
DEMO_ADMIN_EMAIL = "demo-admin@example.com"

SPAN = timedelta(days=730)
SESSIONS_PER_USER = 2
ROLES_PER_TENANT = 2
HEAVY_USER_EVERY = 20  # one user in 20 is a heavy user ...
HEAVY_USER_SHARE = 0.5  # ... and sends half the conversations
CONVERSATION_POOL = 4096  # distinct conversation texts the messages draw from
_DAY = 86_400.0
_PLAN_FACTOR = {"free": 1, "basic": 5, "premium": 10, "enterprise": 100}


@dataclass(frozen=True)
class Plan:
    """Everything the rows depend on; ids are reserved before any row is made."""

    seed: int
    users: int
    messages: int
    tenants: int
    as_of: datetime
    user_base: int
    tenant_base: int
    role_base: int
    account_base: int
    builtin_role_ids: dict[str, int]
    password_hash: str
    demo_accounts: bool
    default_credits: dict
    default_limits: dict

    @property
    def first_generated(self) -> int:
        return 2 if self.demo_accounts else 0

    @property
    def start_ts(self) -> float:
        return (self.as_of - SPAN).timestamp()

    @property
    def key(self) -> int:
        return mix(self.seed)

    def rng(self, table: str) -> random.Random:
        """The table's random stream; another run appended beside this one gets another."""
        return random.Random(f"{self.seed}:{table}:{self.user_base}")  # noqa: S311 - demo data

    def user_id(self, index: int) -> int:
        return self.user_base + index

    def tenant_id(self, number: int) -> int:
        return self.tenant_base + number


@dataclass(frozen=True)
class Person:
    index: int
    id: int
    first: str
    last: str
    username: str
    email: str
    tenant: int | None  # tenant number, None for a platform account
    position: int  # order of joining within the tenant
    role: str  # a built-in role name, or "custom:<k>"
    status: str
    plan: str
    created_ts: float
    last_login_ts: float | None
    ip: str
    hashed: int


# One independent draw per attribute, so that e.g. holding an API key says nothing
# about having a ledger row.
_STATUS, _ROLE, _PLAN, _LAST_LOGIN, _API_KEYS, _LEDGER = range(1, 7)


def percent(hashed: int, attribute: int) -> int:
    """A number in 0..99 that depends on the person and the attribute only."""
    return mix(hashed ^ (attribute << 56)) % 100


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _demo_uuid(*parts: int) -> uuid.UUID:
    """A version-4-shaped UUID that is a function of its parts."""
    high = 0
    for part in parts:
        high = mix(high ^ part)
    low = mix(high ^ 0x5BD1E995)
    return uuid.UUID(int=(high << 64) | low, version=4)


def session_id(plan: Plan, person: Person, slot: int) -> uuid.UUID:
    return _demo_uuid(plan.key, person.id, slot)


def api_key_clear(plan: Plan, user_id: int, slot: int) -> str:
    """A demo key in the service's format (`pe-` + 32 URL-safe characters).

    Derived from the seed so that no clear key is stored anywhere: whoever knows the
    seed can rebuild every demo key, which is why this command never runs on a
    production database.
    """
    material = hashlib.blake2b(
        f"{plan.seed}:{user_id}:{slot}".encode(), digest_size=24, person=b"demo-api-key"
    ).digest()
    return "pe-" + base64.urlsafe_b64encode(material).decode()


class People:
    """user index -> Person, the same answer every time; a small cache serves heavy users."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.person = lru_cache(maxsize=65_536)(self._person)

    def tenant_of(self, index: int) -> tuple[int | None, int]:
        plan = self.plan
        if plan.demo_accounts and index < 2:
            return (0 if index == 0 and plan.tenants else None), 0
        j = index - plan.first_generated
        if not plan.tenants:
            return None, j
        number, position = j % plan.tenants, j // plan.tenants
        return (None if position % 10 == 9 else number), position

    def first_member_id(self, tenant: int) -> int:
        return self.plan.user_id(self.plan.first_generated + tenant)

    def created_ts(self, index: int) -> float:
        plan = self.plan
        fraction = (mix(plan.key ^ index) & 0xFFFF) / 65_536 * 0.9
        return plan.start_ts + SPAN.total_seconds() * (index + fraction) / plan.users

    def _person(self, index: int) -> Person:
        plan = self.plan
        hashed = mix(plan.key ^ (index * 0x9E3779B1 + 1))
        user_id = plan.user_id(index)
        tenant, position = self.tenant_of(index)
        created = self.created_ts(index)
        first = words.FIRST_NAMES[hashed % len(words.FIRST_NAMES)]
        last = words.LAST_NAMES[(hashed >> 8) % len(words.LAST_NAMES)]
        if plan.demo_accounts and index == 0:
            username, email = DEMO_USERNAME, DEMO_EMAIL
            status, role = User.Status.ACTIVE, BuiltinRole.USER
        elif plan.demo_accounts and index == 1:
            username, email = DEMO_ADMIN_USERNAME, DEMO_ADMIN_EMAIL
            status, role = User.Status.ACTIVE, BuiltinRole.ADMIN
        else:
            style = (hashed >> 16) % 3
            username = (
                f"{first}_{last}{user_id}",
                f"{first[0]}{last}{user_id}",
                f"{first}-{last[:3]}{user_id}",
            )[style]
            domain = (
                f"{self.tenant_slug(tenant)}.example"
                if tenant is not None
                else words.PERSONAL_MAIL_DOMAINS[(hashed >> 18) % 3]
            )
            email = f"{first}.{last}{user_id}@{domain}"
            status = self._status(hashed, position, tenant)
            role = self._role(hashed, position, tenant)
        plan_name = ("free", "free", "free", "basic", "basic", "premium", "enterprise")[
            percent(hashed, _PLAN) % 7
        ]
        if status == User.Status.PENDING:
            last_login = None
        else:
            share = 0.3 + 0.7 * percent(hashed, _LAST_LOGIN) / 100
            if status != User.Status.ACTIVE:
                share *= 0.6
            last_login = created + (plan.as_of.timestamp() - created) * share
        ip = f"{words.IP_PREFIXES[(hashed >> 24) % 3]}{1 + (hashed >> 26) % 254}"
        return Person(
            index, user_id, first, last, username, email, tenant, position,
            role, status, plan_name, created, last_login, ip, hashed,
        )  # fmt: skip

    @staticmethod
    def _status(hashed: int, position: int, tenant: int | None) -> str:
        if tenant is not None and position == 0:
            return User.Status.ACTIVE  # a tenant keeps its first admin
        draw = percent(hashed, _STATUS)
        if draw < 90:
            return User.Status.ACTIVE
        if draw < 94:
            return User.Status.SUSPENDED
        if draw < 97:
            return User.Status.PENDING
        return User.Status.DELETED

    @staticmethod
    def _role(hashed: int, position: int, tenant: int | None) -> str:
        if tenant is None:
            return BuiltinRole.USER
        if position == 0:
            return BuiltinRole.ADMIN
        if position in (1, 2):
            return BuiltinRole.MODERATOR
        draw = percent(hashed, _ROLE)
        if draw < 5:
            return BuiltinRole.GUEST
        if draw < 11:
            return f"custom:{draw % ROLES_PER_TENANT}"
        return BuiltinRole.USER

    def tenant_name(self, number: int) -> str:
        return words.company_name(mix(self.plan.key ^ (number + (1 << 40))))

    def tenant_slug(self, number: int) -> str:
        return words.company_slug(self.tenant_name(number), self.plan.tenant_id(number))

    def tenant_roles(self, number: int) -> list[tuple]:
        hashed = mix(self.plan.key ^ (number + (1 << 41)))
        choices = len(words.TENANT_ROLE_CHOICES)
        first = hashed % choices
        second = (first + 1 + (hashed >> 8) % (choices - 1)) % choices
        return [words.TENANT_ROLE_CHOICES[first], words.TENANT_ROLE_CHOICES[second]]

    def role_id(self, person: Person) -> int:
        if person.role.startswith("custom:"):
            k = int(person.role.split(":")[1])
            return self.plan.role_base + person.tenant * ROLES_PER_TENANT + k
        return self.plan.builtin_role_ids[person.role]


# ---------------------------------------------------------------------------
# Row generators: each yields tuples in the order of COLUMNS[table].
# ---------------------------------------------------------------------------


def tenant_rows(plan: Plan, people: People) -> Iterator[tuple]:
    rng = plan.rng("tenants")
    for number in range(plan.tenants):
        name = people.tenant_name(number)
        slug = people.tenant_slug(number)
        first_member = plan.first_generated + number
        created = _ts(people.created_ts(min(first_member, plan.users - 1)) - 3_600)
        settings = {
            "default_role": BuiltinRole.USER,
            "self_registration": rng.random() < 0.3,
            "allowed_email_domains": [f"{slug}.example"] if rng.random() < 0.5 else [],
        }
        if rng.random() < 0.2:
            factor = rng.choice((2, 5, 10))
            settings["default_credits"] = {
                "main": plan.default_credits["main"] * factor,
                "reset": plan.default_credits["reset"] * factor,
            }
        yield (
            plan.tenant_id(number), created, created, name, slug,
            rng.choice(words.TENANT_DESCRIPTIONS), f"{slug}.example",
            rng.random() < 0.97 or number == 0,  # the demo user's tenant stays active
            json.dumps(settings),
        )  # fmt: skip


def role_rows(plan: Plan, people: People) -> Iterator[tuple]:
    for number in range(plan.tenants):
        created = _ts(people.created_ts(min(plan.first_generated + number, plan.users - 1)))
        for k, (name, description, permissions) in enumerate(people.tenant_roles(number)):
            yield (
                plan.role_base + number * ROLES_PER_TENANT + k, created, created, name,
                description, plan.tenant_id(number), json.dumps([str(p) for p in permissions]),
                False,
            )  # fmt: skip


def user_rows(plan: Plan, people: People) -> Iterator[tuple]:
    rng = plan.rng("users")
    for index in range(plan.users):
        person = people.person(index)
        created = _ts(person.created_ts)
        last_login = _ts(person.last_login_ts)
        deleted = person.status == User.Status.DELETED
        is_demo_admin = plan.demo_accounts and index == 1
        yield (
            person.id, plan.password_hash, last_login, False, created, last_login or created,
            person.username, person.email, f"{person.first.title()} {person.last.title()}",
            person.first.title(), person.last.title(), person.status,
            User.UserType.PERSONAL if person.tenant is None else User.UserType.BUSINESS,
            rng.choice(words.ABOUT_ME), rng.choice(words.HOBBIES), person.plan,
            rng.choice(words.PREFERENCES), person.status != User.Status.PENDING, is_demo_admin,
            "", None if person.tenant is None else plan.tenant_id(person.tenant),
            people.role_id(person), created, "", last_login if deleted else None,
            person.id if deleted else None, User.Status.ACTIVE if deleted else "", None,
        )  # fmt: skip


def login_session_rows(plan: Plan, people: People) -> Iterator[tuple]:
    """Two sessions per user who ever logged in: the last login and one before it."""
    rng = plan.rng("login_sessions")
    as_of = plan.as_of.timestamp()
    for index in range(plan.users):
        person = people.person(index)
        if person.last_login_ts is None:
            continue
        started = person.last_login_ts
        for slot in range(SESSIONS_PER_USER):
            if slot:
                started = max(person.created_ts, started - rng.uniform(0.5, 30) * _DAY)
            remember = rng.random() < 0.3
            expires = started + (30 if remember else 7) * _DAY
            revoked_at, reason = None, ""
            if person.status != User.Status.ACTIVE and expires > person.last_login_ts + 3_600:
                revoked_at = min(person.last_login_ts + 3_600 * rng.uniform(1, 48), as_of)
                reason = LoginSession.RevokeReason.STATUS_CHANGE
            elif rng.random() < (0.4 if slot else 0.1):
                revoked_at = min(started + rng.uniform(0.2, 8) * 3_600, as_of)
                reason = LoginSession.RevokeReason.LOGOUT
            last_seen = min(started + rng.uniform(0, 6) * 3_600, revoked_at or expires, as_of)
            yield (
                session_id(plan, person, slot), person.id, person.ip,
                rng.choice(words.USER_AGENTS), remember,
                LoginSession.Surface.API if rng.random() < 0.7 else LoginSession.Surface.USERS,
                f"{rng.getrandbits(128):032x}", _ts(started), _ts(max(last_seen, started)),
                _ts(expires), _ts(revoked_at), reason, rng.random() < 0.05,
            )  # fmt: skip


def _key_row(plan, person, slot, name, scopes, created, expires, last_used, revoked):
    clear = api_key_clear(plan, person.id, slot)
    return (
        person.id, name, clear[3:11], clear[-4:], hashlib.sha256(clear.encode()).hexdigest(),
        scopes, slot == 0, _ts(created), _ts(expires), _ts(last_used), _ts(revoked),
    )  # fmt: skip


def api_key_rows(plan: Plan, people: People) -> Iterator[tuple]:
    """A primary key for 60% of the users who logged in (always the demo user), a second
    read-only key for 15%; the keys of suspended and deleted users are revoked."""
    rng = plan.rng("api_keys")
    primary_scopes, read_scopes = '["read", "write"]', '["read"]'
    for index in range(plan.users):
        person = people.person(index)
        if person.last_login_ts is None:
            continue
        draw = percent(person.hashed, _API_KEYS)
        if draw >= 60 and not (plan.demo_accounts and index == 0):
            continue
        active = person.status == User.Status.ACTIVE
        created = person.created_ts + (person.last_login_ts - person.created_ts) * rng.random()
        revoked = None if active else person.last_login_ts + 3_600
        last_used = person.last_login_ts + rng.uniform(0, 2) * _DAY if rng.random() < 0.8 else None
        if last_used is not None:
            last_used = min(last_used, revoked or plan.as_of.timestamp())
        yield _key_row(
            plan, person, 0, "Default key", primary_scopes, created, None, last_used, revoked
        )
        if draw < 15:
            expires = created + 90 * _DAY if rng.random() < 0.5 else None
            name = rng.choice(("CI pipeline", "Notebook", "Staging", "Reporting"))
            yield _key_row(plan, person, 1, name, read_scopes, created, expires, None, revoked)


def credit_account_rows(plan: Plan, people: People) -> Iterator[tuple]:
    rng = plan.rng("credit_accounts")
    today = plan.as_of.date()
    for index in range(plan.users):
        person = people.person(index)
        factor = _PLAN_FACTOR[person.plan]
        main_reset = plan.default_credits["reset"] * factor
        conversation_reset = plan.default_limits["reset"] * factor
        left, main = rng.randint(0, conversation_reset), rng.randint(0, main_reset)
        if plan.demo_accounts and index == 0:
            left, main = conversation_reset, main_reset  # the demo user starts the day unused
        yield (
            plan.account_base + index, person.id, main, main_reset, left,
            conversation_reset, conversation_reset - left, today,
            _ts(plan.as_of.timestamp() - rng.uniform(0, 20) * 3_600),
        )  # fmt: skip


_STAFF_REASONS = (
    "Goodwill credit after an outage",
    "Trial extension",
    "Correction of a billing mistake",
    "Conference demo",
    "Plan upgrade",
)


def credit_ledger_rows(plan: Plan, people: People) -> Iterator[tuple]:
    """A staff change on 10% of the accounts, a refund of a failed call on 5%."""
    rng = plan.rng("credit_ledger")
    staff_id = plan.user_id(1) if plan.demo_accounts else None
    as_of = plan.as_of.timestamp()
    for index in range(plan.users):
        person = people.person(index)
        draw = percent(person.hashed, _LEDGER)
        if draw >= 15:
            continue
        account_id = plan.account_base + index
        when = _ts(rng.uniform(person.created_ts, as_of))
        before = rng.randint(0, plan.default_limits["reset"])
        if draw < 10:
            after = before + rng.choice((10, 50, 100))
            kind, actor, reason = (
                CreditLedgerEntry.Kind.STAFF_CHANGE,
                staff_id,
                rng.choice(_STAFF_REASONS),
            )
        else:
            after, kind, actor, reason = before + 1, CreditLedgerEntry.Kind.REFUND, None, ""
        yield (
            account_id, actor, kind, reason, json.dumps({"conversation_limit": before}),
            json.dumps({"conversation_limit": after}), when,
        )  # fmt: skip


def audit_rows(plan: Plan, people: People) -> Iterator[tuple]:
    """Per user: the account's creation (self-registration, or by the tenant's admin) and
    the start of the last login session."""
    rng = plan.rng("audit_log")
    for index in range(plan.users):
        person = people.person(index)
        tenant_id = None if person.tenant is None else plan.tenant_id(person.tenant)
        user_agent = rng.choice(words.USER_AGENTS)
        changes = json.dumps({"username": person.username, "email": person.email})
        if person.tenant is not None and person.position > 0:
            admin = people.person(people.first_member_id(person.tenant) - plan.user_base)
            actor = (admin.id, ActorKind.USER, admin.username, AuditAction.USER_CREATE)
        else:
            actor = (person.id, ActorKind.USER, person.username, AuditAction.USER_REGISTER)
        yield (
            _ts(person.created_ts), actor[0], actor[1], actor[2], actor[3], "accounts.user",
            str(person.id), tenant_id, changes, person.ip, user_agent,
            f"{rng.getrandbits(64):016x}",
        )  # fmt: skip
        if person.last_login_ts is not None:
            yield (
                _ts(person.last_login_ts), person.id, ActorKind.USER, person.username,
                AuditAction.SESSION_START, "accounts.loginsession",
                str(session_id(plan, person, 0)), tenant_id,
                '{"surface": "api", "remember_me": false, "mfa": false}', person.ip, user_agent,
                f"{rng.getrandbits(64):016x}",
            )  # fmt: skip


def conversation_pool(plan: Plan) -> list[tuple[str, int]]:
    """Distinct conversations (stored JSON text, tokens) for the messages to draw from."""
    rng = plan.rng("conversations")
    pool = []
    for _ in range(CONVERSATION_POOL):
        fill = {
            "topic": rng.choice(words.TOPICS),
            "task": rng.choice(words.TASKS),
            "language": rng.choice(words.LANGUAGES),
        }
        request = []
        if rng.random() < 0.3:
            request.append({"role": "system", "content": rng.choice(words.SYSTEM_PROMPTS)})
        if rng.random() < 0.2:
            request.append(
                {"role": "user", "content": rng.choice(words.PROMPT_TEMPLATES).format(**fill)}
            )
            request.append({"role": "assistant", "content": _answer(rng)})
        request.append(
            {"role": "user", "content": rng.choice(words.PROMPT_TEMPLATES).format(**fill)}
        )
        response = {"role": "assistant", "content": _answer(rng)}
        text = json.dumps({"request": request, "response": response})
        pool.append((text, max(1, len(text) // 4)))
    return pool


def _answer(rng: random.Random) -> str:
    paragraphs = [
        " ".join(rng.choices(words.ANSWER_SENTENCES, k=rng.randint(2, 5)))
        for _ in range(rng.randint(1, 4))
    ]
    if rng.random() < 0.2:
        paragraphs.insert(rng.randint(1, len(paragraphs)), rng.choice(words.CODE_SNIPPETS))
    return "\n\n".join(paragraphs)


def message_rows(plan: Plan, people: People) -> Iterator[tuple]:
    """Conversations in time order; the traffic grows with the users who have joined, and
    one user in HEAVY_USER_EVERY sends HEAVY_USER_SHARE of them."""
    rng = plan.rng("message_log")
    pool = conversation_pool(plan)
    models = [name for name, weight in words.MODELS for _ in range(weight)]
    span = SPAN.total_seconds()
    start, total_users, total = plan.start_ts, plan.users, plan.messages
    first = plan.first_generated
    for number in range(total):
        when = start + span * math.sqrt((number + rng.random()) / total)
        joined = min(total_users, max(1, int(total_users * (when - start) / span)))
        heavy_count = (joined - first - 1) // HEAVY_USER_EVERY
        if heavy_count > 0 and rng.random() < HEAVY_USER_SHARE:
            index = first + 1 + HEAVY_USER_EVERY * rng.randrange(heavy_count)
        else:
            index = rng.randrange(joined)
        person = people.person(index)
        text, tokens = pool[rng.getrandbits(12) % CONVERSATION_POOL]
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4), _ts(when), person.id,
            person.username, person.email, models[rng.randrange(len(models))], text,
            rng.random() < 0.08, words.R_TYPES[rng.randrange(len(words.R_TYPES))], tokens,
            int(150 + tokens * rng.uniform(2, 12)), person.ip,
        )  # fmt: skip


# (table, generator), in the order the foreign keys need.
GENERATORS = (
    ("tenants", tenant_rows),
    ("roles", role_rows),
    ("users", user_rows),
    ("credit_accounts", credit_account_rows),
    ("credit_ledger", credit_ledger_rows),
    ("login_sessions", login_session_rows),
    ("api_keys", api_key_rows),
    ("audit_log", audit_rows),
    ("message_log", message_rows),
)
