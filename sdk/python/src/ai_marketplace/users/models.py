"""Typed results. Each keeps the service's JSON in `raw`, so fields added by a newer
service are never lost to an older client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai_marketplace.users.client import UserClient


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 moment as an aware datetime (Python 3.10 reads no trailing `Z`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    permissions: list[str]
    description: str = ""
    tenant_id: int | None = None
    is_builtin: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Role:
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            permissions=list(data.get("permissions") or []),
            description=str(data.get("description") or ""),
            tenant_id=data.get("tenant_id"),
            is_builtin=bool(data.get("is_builtin")),
            raw=data,
        )


@dataclass(frozen=True)
class APIKey:
    """An API key as listed: `key` is masked; the secret is never shown again."""

    id: int
    name: str
    key: str
    scopes: list[str]
    is_primary: bool
    active: bool
    user_id: int | None
    created_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> APIKey:
        return cls(**cls._fields_from(data))

    @staticmethod
    def _fields_from(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": int(data["id"]),
            "name": str(data.get("name") or ""),
            "key": str(data.get("key") or ""),
            "scopes": list(data.get("scopes") or []),
            "is_primary": bool(data.get("is_primary")),
            "active": bool(data.get("active")),
            "user_id": data.get("user_id"),
            "created_at": parse_datetime(data.get("created_at")),
            "expires_at": parse_datetime(data.get("expires_at")),
            "last_used_at": parse_datetime(data.get("last_used_at")),
            "revoked_at": parse_datetime(data.get("revoked_at")),
            "raw": data,
        }


@dataclass(frozen=True)
class IssuedAPIKey(APIKey):
    """A key just issued: `api_key` is the full secret, shown this once only."""

    api_key: str = field(default="", repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> IssuedAPIKey:
        return cls(**cls._fields_from(data), api_key=str(data.get("api_key") or ""))


@dataclass(frozen=True)
class Credits:
    """The balance: `credits` (`main`, `reset`), `limits` (`conversation_limit`,
    `reset`), the conversations used today and the day of the last daily reset."""

    credits: dict[str, int]
    limits: dict[str, int]
    used_today: int
    last_reset_on: date | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def conversations_left(self) -> int:
        return int(self.limits.get("conversation_limit", 0))

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Credits:
        return cls(
            credits=dict(data.get("credits") or {}),
            limits=dict(data.get("limits") or {}),
            used_today=int(data.get("used_today") or 0),
            last_reset_on=parse_date(data.get("last_reset_on")),
            raw=data,
        )


@dataclass(frozen=True)
class Message:
    """One conversation of the message log."""

    id: str
    model: str
    messages: dict[str, Any]
    tokens_used: int
    processing_time_ms: int | None
    timestamp: datetime | None
    research_enabled: bool = False
    r_type: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Message:
        return cls(
            id=str(data["id"]),
            model=str(data.get("model") or ""),
            messages=data.get("messages") or {},
            tokens_used=int(data.get("tokens_used") or 0),
            processing_time_ms=data.get("processing_time_ms"),
            timestamp=parse_datetime(data.get("timestamp")),
            research_enabled=bool(data.get("research_enabled")),
            r_type=str(data.get("r_type") or ""),
            raw=data,
        )


@dataclass(frozen=True)
class Plan:
    """A subscription plan: `main_reset` main credits and `conversation_reset`
    conversations per day (None: the tenant's or the service's defaults)."""

    code: str
    name: str
    description: str = ""
    main_reset: int | None = None
    conversation_reset: int | None = None
    is_active: bool = True
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Plan:
        return cls(
            code=str(data["code"]),
            name=str(data.get("name") or ""),
            description=str(data.get("description") or ""),
            main_reset=data.get("main_reset"),
            conversation_reset=data.get("conversation_reset"),
            is_active=bool(data.get("is_active", True)),
            raw=data,
        )


@dataclass(frozen=True)
class PlanChange:
    """One row of a user's plan history (codes, so it outlives a deleted plan)."""

    from_plan: str
    to_plan: str
    reason: str
    actor_id: int | None
    created_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PlanChange:
        return cls(
            from_plan=str(data.get("from_plan") or ""),
            to_plan=str(data.get("to_plan") or ""),
            reason=str(data.get("reason") or ""),
            actor_id=data.get("actor_id"),
            created_at=parse_datetime(data.get("created_at")),
            raw=data,
        )


@dataclass(frozen=True)
class Billing:
    """A user's plan, billing email and newest plan changes (newest first)."""

    user_id: int
    plan: Plan
    billing_email: str
    plan_history: list[PlanChange]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Billing:
        return cls(
            user_id=int(data["user_id"]),
            plan=Plan.from_api(data["plan"]),
            billing_email=str(data.get("billing_email") or ""),
            plan_history=[PlanChange.from_api(row) for row in data.get("plan_history") or []],
            raw=data,
        )


@dataclass(frozen=True)
class TokenPair:
    """A login session's tokens."""

    access_token: str
    refresh_token: str
    session_id: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> TokenPair:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            session_id=data.get("session_id"),
            expires_at=parse_datetime(data.get("expires_at")),
            refresh_expires_at=parse_datetime(data.get("refresh_expires_at")),
        )


@dataclass(eq=False)
class User:
    """An account, bound to the client that fetched it: its methods call the service
    with that client's credentials."""

    id: int
    email: str
    username: str
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    status: str = ""
    user_type: str = ""
    about_me: str = ""
    hobbies: str = ""
    subscription_plan: str = ""
    phone: str = ""
    avatar_url: str | None = None
    is_verified: bool = False
    is_staff: bool = False
    role: str | None = None
    tenant_id: int | None = None
    preferences: dict[str, Any] = field(default_factory=dict)
    last_login: datetime | None = None
    password_changed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    _client: UserClient | None = field(default=None, repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def from_api(cls, data: dict[str, Any], client: UserClient | None = None) -> User:
        user = cls(id=int(data["id"]), email=str(data.get("email") or ""), username="")
        user._client = client
        user._load(data)
        return user

    def _load(self, data: dict[str, Any]) -> None:
        """Take the fields of a fresh answer about this user."""
        self.email = str(data.get("email") or self.email)
        self.username = str(data.get("username") or "")
        for name in ("name", "first_name", "last_name", "status", "user_type"):
            setattr(self, name, str(data.get(name) or ""))
        for name in ("about_me", "hobbies", "subscription_plan", "phone"):
            setattr(self, name, str(data.get(name) or ""))
        self.avatar_url = data.get("avatar_url") or None
        self.is_verified = bool(data.get("is_verified"))
        self.is_staff = bool(data.get("is_staff"))
        self.role = data.get("role")
        self.tenant_id = data.get("tenant_id")
        self.preferences = dict(data.get("preferences") or {})
        self.last_login = parse_datetime(data.get("last_login"))
        self.password_changed_at = parse_datetime(data.get("password_changed_at"))
        self.created_at = parse_datetime(data.get("created_at"))
        self.updated_at = parse_datetime(data.get("updated_at"))
        self.raw = data

    @property
    def client(self) -> UserClient:
        if self._client is None:
            from ai_marketplace.users.errors import UnsupportedOperation

            raise UnsupportedOperation("This User is bound to no client.")
        return self._client

    # ----- the account -------------------------------------------------------------

    def reload(self) -> User:
        """Fetch the account again and take its current fields."""
        self._load(self.client._user_json(self.id))
        return self

    def update(self, **fields: Any) -> User:
        """Staff: change some of the account (`PATCH /api/v1/users/{id}`): profile
        fields, `is_verified`, `role`, `status`, `preferences` (merged)."""
        self._load(self.client._update_user(self.id, fields))
        return self

    def set_status(self, status: str, *, reason: str = "") -> User:
        """Staff: `active`, `suspended` or `pending` (`POST /api/v1/users/{id}/status`)."""
        self._load(self.client._change_status(self.id, status, reason))
        return self

    def assign_role(self, role: str | int | Role) -> User:
        """Give the user a role, by name, id or `Role` (the caller must be allowed to
        grant it: a role above the caller's own is 403 `ROLE_TOO_HIGH`)."""
        self._load(self.client._assign_role(self.id, role))
        return self

    # ----- preferences -------------------------------------------------------------

    def get_preferences(self) -> dict[str, Any]:
        """The client's own account: the effective document (defaults with the
        user's choices over them). Another user, for staff: their stored choices."""
        return self.client._get_preferences(self.id)

    def set_preferences(self, preferences: dict[str, Any]) -> dict[str, Any]:
        """Replace the whole preferences document (keys left out go back to defaults).
        Only the account's own login session replaces it; staff merge with
        `update_settings`."""
        return self.client._replace_preferences(self.id, preferences)

    def update_settings(self, **settings: Any) -> dict[str, Any]:
        """Change some settings, deep-merged into the stored ones:
        `user.update_settings(theme="dark", notifications={"slack": False})`.

        The client's own account: `PATCH /api/v1/users/me/preferences` (a login
        session), answering the effective document. Another user, for staff:
        `PATCH /api/v1/users/{id}` with `preferences`, answering their stored choices."""
        return self.client._merge_preferences(self, settings)

    # ----- API keys ----------------------------------------------------------------

    def generate_api_key(
        self,
        name: str,
        expires_in: str | int | float | Any = "30d",
        scopes: list[str] | tuple[str, ...] | None = ("read", "write"),
    ) -> IssuedAPIKey:
        """Issue an API key for this user. Keys are minted only by their owner, with a
        login session: another user's key is `UnsupportedOperation`, and a client
        holding only a key gets `KeyNotAccepted` from the service. `expires_in`:
        "30d", "12h", "90m", "2w", seconds, a timedelta, a datetime, or None for a
        key that never expires. `scopes`: `read`, `write`, permission strings, and
        the management scopes `read:users`, `write:users`, `manage:roles`."""
        self.client._require_self(self.id, "issue API keys")
        return self.client.generate_api_key(name, expires_in=expires_in, scopes=scopes)

    def list_api_keys(self) -> list[APIKey]:
        """This user's keys, masked (the owner's login session only)."""
        self.client._require_self(self.id, "list API keys")
        return self.client.list_api_keys()

    def revoke_api_key(self, key_id: int | APIKey) -> APIKey:
        """Revoke one of this user's keys (staff who may change the user may too)."""
        return self.client.revoke_api_key(key_id)

    # ----- credits and billing -----------------------------------------------------

    def credits(self) -> Credits:
        """The balance of the client's own account (a session or a key)."""
        self.client._require_self(self.id, "read the balance")
        return self.client.credits()

    def set_credits(
        self,
        *,
        credits: dict[str, int] | None = None,
        limits: dict[str, int] | None = None,
        reason: str = "",
    ) -> Credits:
        """Staff: set this user's balance (`credits` `main`/`reset`, `limits`
        `conversation_limit`/`reset`), recorded in the credit ledger with `reason`."""
        return self.client._set_credits(self.id, credits=credits, limits=limits, reason=reason)

    def billing(self) -> Billing:
        """The user's plan, billing email and newest plan changes (their own, or, for
        staff and tenant admins, a user they can see)."""
        return self.client._billing_of(self.id)

    def change_plan(self, code: str, reason: str | None = None) -> Billing:
        """Put the user on an active plan (`PUT /api/v1/users/{id}/plan`): platform
        admins, and tenant admins for their own tenant's users; nobody changes their
        own. An unknown code is 400 `UNKNOWN_PLAN`, an inactive one `PLAN_INACTIVE`."""
        billing = self.client._change_plan(self.id, code, reason)
        self.subscription_plan = billing.plan.code
        return billing
