"""`UserClient`: the service's REST API (`/api/v1`) and metered API (`/v1`) over httpx.

Credentials: an API key (sent as `X-API-Key`) opens the metered API, the credit
balance and the key owner's account; a key made with the management scopes
`read:users`, `write:users`, `manage:roles` also opens the user and role API, as its
owner. Everything else (minting keys, preferences, billing, avatars, the message log)
needs a login session, whose access token travels as `Authorization: Bearer …`. The
client refuses nothing the service might allow: it sends the call and raises the
service's answer (`ScopeMissing`, `KeyNotAccepted`, ...). A client may hold both: the
service uses the key where keys are accepted and the session elsewhere.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ai_marketplace.users.errors import (
    APIError,
    AuthenticationError,
    ConnectionFailed,
    CreditsExhausted,
    MfaRequired,
    UnsupportedOperation,
    UserClientError,
    error_for,
    retry_after_seconds,
)
from ai_marketplace.users.models import (
    APIKey,
    Billing,
    Credits,
    IssuedAPIKey,
    Message,
    Plan,
    Role,
    TokenPair,
    User,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
BASE_URL_ENV = "AI_MARKETPLACE_BASE_URL"
API_KEY_ENV = "AI_MARKETPLACE_API_KEY"

# Methods whose repetition changes nothing more: only these are sent again after a
# connection error, since a POST that reached the service may have done its work.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The access token's expiry as simplejwt words it; a revoked session is not refreshable.
EXPIRED_TOKEN_CODES = frozenset({"TOKEN_NOT_VALID", "TOKEN_EXPIRED"})
PREFERENCES_PATH = "/api/v1/users/me/preferences"
BILLING_PATH = "/api/v1/users/me/billing"
AVATAR_PATH = "/api/v1/users/me/avatar"
_DURATION_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_SERVICE_UNITS = (("d", 86400), ("h", 3600), ("m", 60))


def expiry_for_api(expires_in: Any) -> str | None:
    """What `POST /api/v1/api-keys` takes as `expires_in` ("30d", "12h", "90m" or an
    ISO moment) for a duration string, seconds, a timedelta or a datetime."""
    if expires_in is None or expires_in == "":
        return None
    if isinstance(expires_in, datetime):
        moment = expires_in if expires_in.tzinfo else expires_in.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat()
    if isinstance(expires_in, timedelta):
        return _seconds_for_api(expires_in.total_seconds())
    if isinstance(expires_in, bool):
        raise TypeError("expires_in must be a duration, not a bool")
    if isinstance(expires_in, int | float):
        return _seconds_for_api(float(expires_in))
    if isinstance(expires_in, str):
        text = expires_in.strip().lower()
        number, unit = text[:-1], text[-1:]
        if unit in _DURATION_UNITS and number.isdigit():
            if unit in {"d", "h", "m"}:
                return f"{int(number)}{unit}"
            return _seconds_for_api(int(number) * _DURATION_UNITS[unit])
        return expires_in.strip()  # an ISO date or moment, checked by the service
    raise TypeError(f"expires_in cannot be {type(expires_in).__name__}")


def _seconds_for_api(seconds: float) -> str:
    """The largest whole unit the service reads; else the exact moment."""
    if seconds <= 0:
        raise ValueError("expires_in must be in the future")
    whole = int(seconds)
    if whole == seconds:
        for unit, size in _SERVICE_UNITS:
            if whole % size == 0 and whole // size <= 99999:
                return f"{whole // size}{unit}"
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


class UserClient:
    """A client of the user-management service.

    `UserClient(api_key=...)` for the metered API, the balance and, with a key made
    with management scopes, users and roles; `UserClient.login(email=...,
    password=...)` (or `access_token=`) for everything a signed-in user or an
    administrator does. Errors raise the typed exceptions of
    `ai_marketplace.users.errors`; 429 and 503 answers are retried up to
    `max_retries` times with exponential back-off and jitter, honouring
    `Retry-After` (an answer asking to wait longer than `max_retry_wait` seconds is
    raised at once), and connection errors are retried for idempotent methods only.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if api_key is None and access_token is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.session_id: str | None = None
        self.max_retries = max(0, int(max_retries))
        self.backoff_factor = backoff_factor
        self.max_backoff = max_backoff
        self.max_retry_wait = max_retry_wait
        self._me_id: int | None = None
        self._refresh_lock = threading.Lock()
        self._sleep = time.sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "ai-marketplace-users/0.1"},
        )

    # ----- life cycle --------------------------------------------------------------

    @classmethod
    def login(
        cls,
        *,
        password: str,
        email: str | None = None,
        username: str | None = None,
        base_url: str | None = None,
        mfa_code: str | None = None,
        tenant_id: int | None = None,
        remember_me: bool = False,
        **options: Any,
    ) -> UserClient:
        """Log in (`POST /api/v1/auth/login`, then `/auth/mfa/verify` with `mfa_code`
        for an account with MFA) and return a client holding the session's tokens;
        it refreshes them by itself when the access token expires."""
        identifier = email or username
        if not identifier:
            raise ValueError("login needs email or username")
        client = cls(base_url=base_url, **options)
        body: dict[str, Any] = {"email": identifier, "password": password}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        if remember_me:
            body["remember_me"] = True
        try:
            answer = client._send("POST", "/api/v1/auth/login", json=body, authenticated=False)
            if answer.get("mfa_required"):
                if not mfa_code:
                    raise MfaRequired(str(answer["mfa_token"]), answer.get("expires_in"))
                answer = client._send(
                    "POST",
                    "/api/v1/auth/mfa/verify",
                    json={"mfa_token": answer["mfa_token"], "code": mfa_code},
                    authenticated=False,
                )
        except BaseException:
            client.close()
            raise
        client._take_tokens(answer)
        return client

    def logout(self) -> None:
        """End this login session (`POST /api/v1/auth/logout`); the tokens are dropped."""
        if self.access_token is None:
            return
        self._send("POST", "/api/v1/auth/logout", refreshable=False)
        self.access_token = self.refresh_token = self.session_id = None
        self._me_id = None

    def refresh(self) -> TokenPair:
        """Exchange the refresh token for a new pair now (the old one dies)."""
        if not self.refresh_token:
            raise UnsupportedOperation("This client holds no refresh token.")
        answer = self._send(
            "POST",
            "/api/v1/auth/refresh",
            json={"refresh_token": self.refresh_token},
            authenticated=False,
        )
        return self._take_tokens(answer)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> UserClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----- the caller --------------------------------------------------------------

    def me(self) -> User:
        """The client's own account (`GET /api/v1/users/me`): the session's, or the
        key's owner (a key allowed `read:self`, which `read` includes, or `read:users`)."""
        user = User.from_api(self._send("GET", "/api/v1/users/me"), self)
        self._me_id = user.id
        return user

    def credits(self) -> Credits:
        """The caller's balance (`GET /api/v1/users/me/credits`; API keys accepted)."""
        return Credits.from_api(self._send("GET", "/api/v1/users/me/credits"))

    def messages(
        self,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        model: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Message]:
        """The caller's conversations, newest first, fetched page by page as the
        iteration goes (`GET /api/v1/users/me/messages`, keyset pages)."""
        params: dict[str, Any] = {}
        for name, value in (("since", since), ("until", until)):
            if value is not None:
                params[name] = value.isoformat() if isinstance(value, datetime) else value
        if model is not None:
            params["model"] = model
        if page_size is not None:
            params["page_size"] = page_size
        while True:
            page = self._send("GET", "/api/v1/users/me/messages", params=params)
            for item in page.get("results") or []:
                yield Message.from_api(item)
            cursor = _cursor_of(page.get("next"))
            if cursor is None:
                return
            params = {**params, "cursor": cursor}

    def complete(self, messages: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        """A chat completion (`POST /v1/prompt/completions`, one conversation credit).
        Not retried on a connection error: the credit may have been spent."""
        return self._send("POST", "/v1/prompt/completions", json={"messages": messages, **options})

    # ----- plans, billing and the avatar of the signed-in user ---------------------

    def plans(self) -> list[Plan]:
        """The subscription plans on offer, in order (`GET /api/v1/plans`)."""
        return [Plan.from_api(item) for item in self._send("GET", "/api/v1/plans")]

    def billing(self) -> Billing:
        """The signed-in user's plan, billing email and newest plan changes
        (`GET /api/v1/users/me/billing`)."""
        return Billing.from_api(self._send("GET", BILLING_PATH))

    def set_billing_email(self, billing_email: str) -> Billing:
        """Set the signed-in user's billing email; "" clears it
        (`PUT /api/v1/users/me/billing`; the plan is not changed there)."""
        body = {"billing_email": billing_email}
        return Billing.from_api(self._send("PUT", BILLING_PATH, json=body))

    def set_avatar(self, image: str | os.PathLike[str] | bytes) -> User:
        """Upload the signed-in user's avatar (`PUT /api/v1/users/me/avatar`): a path or
        the image's bytes, PNG, JPEG or WebP up to 2 MB. The service re-encodes it."""
        if isinstance(image, bytes | bytearray):
            content, filename = bytes(image), "avatar"
        else:
            path = Path(image)
            content, filename = path.read_bytes(), path.name
        files = {"avatar": (filename, content, "application/octet-stream")}
        return User.from_api(self._send("PUT", AVATAR_PATH, files=files), self)

    def remove_avatar(self) -> User:
        """Remove the signed-in user's avatar (`DELETE /api/v1/users/me/avatar`)."""
        return User.from_api(self._send("DELETE", AVATAR_PATH), self)

    # ----- preferences of the signed-in user ---------------------------------------

    def get_preferences(self) -> dict[str, Any]:
        """The signed-in user's effective preferences (`GET /api/v1/users/me/preferences`)."""
        return _preferences_of(self._send("GET", PREFERENCES_PATH))

    def set_preferences(self, preferences: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the preferences document (`PUT /api/v1/users/me/preferences`)."""
        return _preferences_of(self._send("PUT", PREFERENCES_PATH, json=dict(preferences)))

    def update_settings(self, **settings: Any) -> dict[str, Any]:
        """Deep-merge settings into the preferences (`PATCH /api/v1/users/me/preferences`)."""
        return _preferences_of(self._send("PATCH", PREFERENCES_PATH, json=settings))

    # ----- API keys of the signed-in user (a login session only) --------------------

    def generate_api_key(
        self,
        name: str,
        *,
        expires_in: Any = "30d",
        scopes: list[str] | tuple[str, ...] | None = ("read", "write"),
    ) -> IssuedAPIKey:
        """Issue a key for the signed-in user (`POST /api/v1/api-keys`, a login
        session: a key never mints keys, `KeyNotAccepted`). `scopes` are `read`,
        `write`, permission strings such as `read:models`, or the management scopes
        `read:users`, `write:users`, `manage:roles` (the caller's role must hold them);
        None gives the service's default (read and write)."""
        body: dict[str, Any] = {"name": name}
        expiry = expiry_for_api(expires_in)
        if expiry is not None:
            body["expires_in"] = expiry
        if scopes is not None:
            body["scopes"] = list(scopes)
        return IssuedAPIKey.from_api(self._send("POST", "/api/v1/api-keys", json=body))

    def list_api_keys(self) -> list[APIKey]:
        """The signed-in user's keys, masked (`GET /api/v1/api-keys`)."""
        answer = self._send("GET", "/api/v1/api-keys")
        return [APIKey.from_api(item) for item in answer.get("results") or []]

    def revoke_api_key(self, key_id: int | APIKey) -> APIKey:
        """Revoke a key (`DELETE /api/v1/api-keys/{id}`); it stops working at once."""
        number = key_id.id if isinstance(key_id, APIKey) else int(key_id)
        return APIKey.from_api(self._send("DELETE", f"/api/v1/api-keys/{number}"))

    # ----- users and roles (administrators, or a key with management scopes) -------

    def create_user(
        self,
        *,
        email: str,
        password: str,
        role: str | int | Role | None = None,
        tenant: int | None = None,
        username: str | None = None,
        **profile: Any,
    ) -> User:
        """Create an account (`POST /api/v1/users`; platform staff and tenant admins,
        or a key with `write:users`).

        `role` is any role the caller may grant (built-in or the tenant's own);
        `tenant` is a tenant id (tenant admins create in their own tenant); `username`
        defaults to the email's local part. Other keywords (`name`, `first_name`,
        `last_name`, `status`, `is_verified`) go into the body as they are."""
        body: dict[str, Any] = {
            "email": email,
            "password": password,
            "username": username or _username_from(email),
            **profile,
        }
        if role is not None:
            body["role"] = self._role_name(role)
        if tenant is not None:
            body["tenant_id"] = int(tenant)
        return User.from_api(self._send("POST", "/api/v1/users", json=body), self)

    def get_user(self, user_id: int) -> User:
        """A user the caller may see (`GET /api/v1/users/{id}`); others are NotFound."""
        return User.from_api(self._user_json(user_id), self)

    def users(self, *, page_size: int | None = None, **filters: Any) -> Iterator[User]:
        """The users the caller may see, fetched in keyset pages (`GET /api/v1/users`
        with `cursor`) as the iteration goes: any depth costs the same, and a user
        appears once even while others are added. Filters: `search`, `status`,
        `role`, `tenant`, `plan`, `created_after`, `created_before` (datetimes or
        ISO strings) and `ordering` (`id`, `created_at`, `username`, `email`, each
        may start with `-`)."""
        params: dict[str, Any] = {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in filters.items()
            if value is not None
        }
        if page_size is not None:
            params["page_size"] = page_size
        params["cursor"] = ""  # an empty cursor asks for the first keyset page
        while True:
            page = self._send("GET", "/api/v1/users", params=params)
            for item in page.get("results") or []:
                yield User.from_api(item, self)
            cursor = _cursor_of(page.get("next"))
            if cursor is None:
                return
            params = {**params, "cursor": cursor}

    def create_role(
        self,
        *,
        name: str,
        permissions: list[str],
        tenant: int | None = None,
        description: str = "",
    ) -> Role:
        """A custom role of the caller's tenant (`POST /api/v1/roles`); platform admins
        may name a `tenant`. Names are 2-50 lower-case letters, digits, '-' or '_';
        permissions are written `action:resource` (`read:models`)."""
        body: dict[str, Any] = {"name": name, "permissions": list(permissions)}
        if description:
            body["description"] = description
        if tenant is not None:
            body["tenant_id"] = int(tenant)
        return Role.from_api(self._send("POST", "/api/v1/roles", json=body))

    def roles(self) -> list[Role]:
        """The roles the caller may see: the built-in ones and their tenant's."""
        return [Role.from_api(item) for item in self._send("GET", "/api/v1/roles")["results"]]

    def get_role(self, role_id: int) -> Role:
        return Role.from_api(self._send("GET", f"/api/v1/roles/{int(role_id)}"))

    def update_role(
        self,
        role: int | Role,
        *,
        name: str | None = None,
        permissions: list[str] | None = None,
        description: str | None = None,
    ) -> Role:
        """Change a custom role of the caller's tenant (`PATCH /api/v1/roles/{id}`);
        only the fields given change. Built-in roles are 403 `BUILTIN_ROLE`."""
        number = role.id if isinstance(role, Role) else int(role)
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if permissions is not None:
            body["permissions"] = list(permissions)
        if description is not None:
            body["description"] = description
        return Role.from_api(self._send("PATCH", f"/api/v1/roles/{number}", json=body))

    # ----- helpers the User objects call -------------------------------------------

    def _user_json(self, user_id: int) -> dict[str, Any]:
        return self._send("GET", f"/api/v1/users/{int(user_id)}")

    def _assign_role(self, user_id: int, role: str | int | Role) -> dict[str, Any]:
        return self._send(
            "POST", f"/api/v1/users/{int(user_id)}/roles", json={"role": self._role_name(role)}
        )

    def _role_name(self, role: str | int | Role) -> str:
        if isinstance(role, Role):
            return role.name
        if isinstance(role, int) and not isinstance(role, bool):
            return self.get_role(role).name
        return str(role)

    def _update_user(self, user_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(fields)
        if isinstance(body.get("role"), Role | int) and not isinstance(body["role"], bool):
            body["role"] = self._role_name(body["role"])
        return self._send("PATCH", f"/api/v1/users/{int(user_id)}", json=body)

    def _change_status(self, user_id: int, status: str, reason: str) -> dict[str, Any]:
        body = {"status": status, **({"reason": reason} if reason else {})}
        return self._send("POST", f"/api/v1/users/{int(user_id)}/status", json=body)

    def _signed_in_id(self) -> int | None:
        """The id of the client's own account (the session's, else the key's owner);
        None when unknown: no credential, or a key that may not read its owner."""
        if self._me_id is None and self.access_token is not None:
            self.me()
        elif self._me_id is None and self.api_key:
            try:
                self.me()
            except UserClientError:
                return None  # the service decides each call by itself
        return self._me_id

    def _is_self(self, user_id: int) -> bool:
        return self._signed_in_id() == user_id

    def _require_self(self, user_id: int, what: str) -> None:
        """Refuse only what no endpoint does: acting as another account. A client
        whose own account is unknown sends the call and lets the service answer."""
        own = self._signed_in_id()
        if own is not None and own != user_id:
            raise UnsupportedOperation(
                f"Only the account itself can {what}: log in as user {user_id} "
                "(UserClient.login) and call this on client.me()."
            )

    def _get_preferences(self, user_id: int) -> dict[str, Any]:
        if self._is_self(user_id):
            return self.get_preferences()
        # Staff read another account's stored preferences from the user resource.
        return dict(self._user_json(user_id).get("preferences") or {})

    def _replace_preferences(self, user_id: int, preferences: Mapping[str, Any]) -> dict[str, Any]:
        if not self._is_self(user_id):
            # PUT /api/v1/users/{id} merges `preferences`; only the owner replaces them.
            raise UnsupportedOperation(
                f"Preferences are replaced only by their owner: log in as user {user_id} "
                "(UserClient.login) and call this on client.me(). Staff change some "
                "settings with user.update_settings(...) (None resets one to its default)."
            )
        return self.set_preferences(preferences)

    def _merge_preferences(self, user: User, settings: Mapping[str, Any]) -> dict[str, Any]:
        if self._is_self(user.id):
            return self.update_settings(**settings)
        # Staff with write:users over the user merge as the owner's PATCH does.
        user._load(self._update_user(user.id, {"preferences": dict(settings)}))
        return dict(user.preferences)

    def _billing_of(self, user_id: int) -> Billing:
        if self._is_self(user_id):
            return self.billing()
        return Billing.from_api(self._send("GET", f"/api/v1/users/{int(user_id)}/billing"))

    def _change_plan(self, user_id: int, code: str, reason: str | None) -> Billing:
        body = {"subscription_plan": code, **({"reason": reason} if reason else {})}
        return Billing.from_api(self._send("PUT", f"/api/v1/users/{int(user_id)}/plan", json=body))

    def _set_credits(
        self,
        user_id: int,
        *,
        credits: dict[str, int] | None,
        limits: dict[str, int] | None,
        reason: str,
    ) -> Credits:
        body: dict[str, Any] = {}
        if credits is not None:
            body["credits"] = credits
        if limits is not None:
            body["limits"] = limits
        if reason:
            body["reason"] = reason
        return Credits.from_api(
            self._send("PUT", f"/api/v1/users/{int(user_id)}/credits", json=body)
        )

    def _take_tokens(self, answer: dict[str, Any]) -> TokenPair:
        pair = TokenPair.from_api(answer)
        self.access_token = pair.access_token
        self.refresh_token = pair.refresh_token
        self.session_id = pair.session_id
        user = answer.get("user")
        if isinstance(user, dict) and "id" in user:
            self._me_id = int(user["id"])
        return pair

    # ----- the wire ----------------------------------------------------------------

    def _headers(self, authenticated: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if not authenticated:
            return headers
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return headers

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        authenticated: bool = True,
        refreshable: bool = True,
    ) -> Any:
        """One call: retried as the class says, refreshed once on an expired token,
        the JSON answer returned or the error raised."""
        response = self._request(
            method, path, json=json, params=params, files=files, authenticated=authenticated
        )
        if (
            response.status_code == 401
            and authenticated
            and refreshable
            and self.refresh_token
            and _error_code(response) in EXPIRED_TOKEN_CODES
        ):
            self._refresh_after_expiry(response)
            response = self._request(
                method, path, json=json, params=params, files=files, authenticated=True
            )
        if response.is_error:
            raise error_for(response)
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    def _refresh_after_expiry(self, response: httpx.Response) -> None:
        """Refresh once even when several threads meet the expiry together."""
        sent = response.request.headers.get("Authorization", "")
        with self._refresh_lock:
            if sent != f"Bearer {self.access_token}":
                return  # another thread refreshed already
            try:
                self.refresh()
            except AuthenticationError:
                self.access_token = self.refresh_token = None
                raise

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: dict[str, Any] | None,
        files: dict[str, Any] | None = None,
        authenticated: bool,
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    files=files,
                    headers=self._headers(authenticated),
                )
            except httpx.TransportError as exc:
                if method.upper() not in IDEMPOTENT_METHODS or attempt >= self.max_retries:
                    raise ConnectionFailed(f"{method} {self.base_url}{path} failed: {exc}") from exc
                self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            if response.status_code not in (429, 503) or attempt >= self.max_retries:
                return response
            error = error_for(response)
            if isinstance(error, CreditsExhausted):
                return response
            wait = self._wait_before_retry(error, attempt)
            if wait is None:
                return response
            self._sleep(wait)
            attempt += 1

    def _wait_before_retry(self, error: APIError, attempt: int) -> float | None:
        """Seconds to wait before sending again, or None to give up now."""
        retry_after = retry_after_seconds(error.headers)
        if retry_after is None:
            return self._backoff(attempt)
        if retry_after > self.max_retry_wait:
            return None
        # The server's wait is a floor; a little jitter keeps clients from a stampede.
        return retry_after + random.uniform(0, min(1.0, self.backoff_factor))  # noqa: S311

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with equal jitter: between half and all of the step."""
        step = min(self.max_backoff, self.backoff_factor * (2**attempt))
        return step / 2 + random.uniform(0, step / 2)  # noqa: S311


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error_code") or "") if isinstance(body, dict) else ""


def _cursor_of(link: Any) -> str | None:
    """The `cursor` of a page's `next` link (followed on this client's own base URL)."""
    if not isinstance(link, str) or not link:
        return None
    values = parse_qs(urlsplit(link).query).get("cursor")
    return values[0] if values else None


def _preferences_of(answer: Any) -> dict[str, Any]:
    """The preferences document, whether answered bare or as `{"preferences": {...}}`."""
    if not isinstance(answer, dict):
        return {}
    wrapped = answer.get("preferences")
    if isinstance(wrapped, dict) and set(answer) <= {
        "success",
        "message",
        "preferences",
        "updated_at",
        "version",
    }:
        return dict(wrapped)
    return dict(answer)


def _username_from(email: str) -> str:
    """A username the service accepts (3-50 of letters, digits, '-' and '_')."""
    local = email.split("@", 1)[0]
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in local)
    return (cleaned + "___")[: max(3, min(50, len(cleaned)))]
