"""The layout rules of docs/architecture.md, checked on the source itself.

The import ladder is checked by `lint-imports` (pyproject.toml); these tests
check what an import graph cannot see.
"""

import ast
import inspect
import re
from pathlib import Path

import pytest
from django.conf import settings

from core.error_catalog import DOCS_END, DOCS_START, duplicate_codes, error_codes, markdown_table
from security.models import AuditAction

ROOT = Path(settings.BASE_DIR)
APPS = ("core", "security", "events", "accounts", "tenants", "apikeys", "credits", "messagelog")
APPS += ("webhooks", "gateway", "support", "oauth", "config")


def _source_files(*, only_api: bool = False) -> list[Path]:
    files = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            if only_api and "api" not in parts:
                continue
            files.append(path)
    return files


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_error_code_table_in_docs_is_generated_from_the_enums():
    text = (ROOT / "docs" / "api.md").read_text()
    assert DOCS_START in text and DOCS_END in text
    documented = text.split(DOCS_START, 1)[1].split(DOCS_END, 1)[0].strip()
    assert documented == markdown_table(), "run `manage.py error_codes --write`"


def test_error_codes_each_have_one_owner():
    assert error_codes()
    assert duplicate_codes() == []


def test_error_codes_and_audit_actions_are_named_not_spelt_out():
    declared = {member.value for member in error_codes()} | {action.value for action in AuditAction}
    spelt_out = [
        f"{_where(path, line)} {value!r}"
        for path in _source_files()
        if path.name != "errors.py"
        # The enum of actions, the settings (log levels such as "ERROR" are not codes) and
        # the enum of event types (`user.deleted` is an event as well as an action).
        and path.relative_to(ROOT).as_posix()
        not in {"security/models.py", "config/settings.py", "events/catalog.py"}
        for line, value in _string_constants(path)
        if value in declared or (value.upper() in declared and value.islower() and "_" in value)
    ]
    assert spelt_out == []


def _calls(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((node.lineno, name))
    return found


@pytest.mark.parametrize(
    ("call", "why"),
    [
        ("atomic", "a view opens no transaction: the service owns it"),
        ("filter", "a view builds no queryset filter: a selector or FilterSet does"),
        ("exclude", "a view builds no queryset filter: a selector or FilterSet does"),
        ("has_perm", "a view checks no permission string: the authz function does"),
    ],
)
def test_api_layer_leaves_the_work_to_services_and_selectors(call, why):
    offenders = [
        _where(path, line)
        for path in _source_files(only_api=True)
        for line, name in _calls(path)
        if name == call
    ]
    assert offenders == [], why


def _service_modules():
    import importlib

    for path in _source_files():
        relative = path.relative_to(ROOT).with_suffix("")
        parts = relative.parts
        if "services" in parts or parts[-1] == "services":
            yield importlib.import_module(".".join(p for p in parts if p != "__init__"))


# Public functions of services modules that take no actor, and why. Everything else
# in a services module changes state on someone's behalf and names who.
SERVICES_WITHOUT_ACTOR = {
    "security.services.allowlist.allowlist_cache_clear": "cache step of every entry change",
    "support.services.admin_panel_update_names_a_change": "validator, asked before the lookup",
    "security.services.allowlist.ip_is_allowlisted": "read of the cached entries it keeps",
    "security.services.allowlist.normalize_network": "validator of an entry's network",
    "security.services.audit.field_changes": "builds an audit row's changes",
    "security.services.audit.snapshot": "builds an audit row's changes",
    "security.services.events.security_event_record": "records what was seen, not an act",
    "security.services.firewall.failed_authentication_register": "counts what was seen",
    "security.services.firewall.ip_blocked_until": "read of the cached block it keeps",
    "security.services.firewall.ip_exempt": "read of the exemption settings and allowlist",
    "accounts.services.roles.permissions_validate": "validator of a role's permissions",
    "apikeys.services.apikey_authenticate": "credential flow: the key names its owner",
    "apikeys.services.digest_of": "pure function: the stored digest of a key",
    "credits.services.account_for": "makes the account on first use; changes are audited",
    "credits.services.balance_of": "read through account_for",
    "credits.services.consume": "metered path: the key's owner spends; the ledger records",
    "credits.services.default_credits_cleaned": "validator of a tenant setting",
    "tenants.services.tenant_settings_cleaned": "validator of a tenant's settings (the admin form)",
    "tenants.services.tenant_settings_applied": "cache step of an audited settings change",
    "messagelog.services.drain_relay": "system: moves queued records, no decision",
    "messagelog.services.enqueue": "metered path: logs the owner's own conversation",
    "messagelog.services.enqueue_all": "metered path: logs the owner's own conversations",
    "messagelog.services.redact_users": "step of the account purge, which is audited",
    "gateway.services.complete": "metered path: the key's owner asks",
    "gateway.services.complete_batch": "metered path: the key's owner asks",
    "gateway.services.complete_streamed": "metered path: the key's owner asks",
    "accounts.services.lifecycle.account_recover": "credential flow: the token names the account",
    "accounts.services.lifecycle.account_recovery_request": (
        "credential flow: the email names the account"
    ),
    "accounts.services.lifecycle.email_verification_resend": (
        "credential flow: the email names the account"
    ),
    "accounts.services.lifecycle.email_verify": "credential flow: the token names the account",
    "accounts.services.lifecycle.password_reset_confirm": (
        "credential flow: the token names the account"
    ),
    "accounts.services.lifecycle.password_reset_request": (
        "credential flow: the email names the account"
    ),
    "accounts.services.login.complete_mfa_login": "credential flow: the token names the account",
    "accounts.services.login.login_with_external_identity": (
        "credential flow: the identity provider names the account"
    ),
    "oauth.services.social_account_resolve": (
        "credential flow: the identity provider names the account"
    ),
    "accounts.services.login.login_with_password": (
        "credential flow: the password names the account"
    ),
    "accounts.services.mfa.mfa_challenge_create": (
        "credential flow: the password names the account"
    ),
    "accounts.services.mfa.mfa_challenge_redeem": "credential flow: the token names the account",
    "accounts.services.passwords.password_confirm": (
        "credential flow: the password names the account (a guard: it changes only the "
        "lockout count)"
    ),
    "accounts.services.sessions.session_refresh": "credential flow: the token names the account",
    "accounts.services.sessions.session_start": ("credential flow: the password names the account"),
    "accounts.services.users.user_register": "credential flow: the email names the account",
    "accounts.services.users.role_check_tenant": "validator, asked before a role is given",
    "webhooks.services.deliveries_fan_out": "system: the relay hands over published events",
}


def test_services_take_the_actor_as_a_required_keyword():
    """A service taking `actor` takes it as a required keyword; every public service
    takes it, but those SERVICES_WITHOUT_ACTOR names with the reason."""
    loose, missing = [], []
    for module in _service_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            qualified = f"{module.__name__}.{name}"
            parameter = inspect.signature(function).parameters.get("actor")
            if parameter is None:
                if qualified not in SERVICES_WITHOUT_ACTOR:
                    missing.append(qualified)
                continue
            if (
                parameter.kind is not parameter.KEYWORD_ONLY
                or parameter.default is not parameter.empty
            ):
                loose.append(qualified)
    assert loose == []
    assert missing == [], "take `actor`, or say in SERVICES_WITHOUT_ACTOR why not"


def test_services_without_actor_exist_and_take_no_actor():
    """The exemptions stay true: each names a public service that has no `actor`."""
    services = {
        f"{module.__name__}.{name}": function
        for module in _service_modules()
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
    }
    for qualified in SERVICES_WITHOUT_ACTOR:
        assert qualified in services, qualified
        assert "actor" not in inspect.signature(services[qualified]).parameters, qualified


def test_domain_code_never_imports_the_api_layer():
    offenders = []
    for path in _source_files():
        parts = path.relative_to(ROOT).parts
        if "api" in parts or parts[0] == "config":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [
                f"{_where(path, node.lineno)} {name}" for name in names if ".api." in f".{name}."
            ]
    assert offenders == []


def test_every_model_has_a_factory_in_its_app():
    import importlib

    import factory
    from django.apps import apps

    without = []
    for app in APPS:
        try:
            app_config = apps.get_app_config(app)
        except LookupError:
            continue
        models = list(app_config.get_models())
        if not models:
            continue
        module = importlib.import_module(f"{app}.tests.factories")
        made = {
            member._meta.model
            for member in vars(module).values()
            if isinstance(member, type)
            and issubclass(member, factory.django.DjangoModelFactory)
            and member._meta.model is not None
        }
        without += [model._meta.label for model in models if model not in made]
    assert without == []


def test_audit_rows_are_read_in_tests_only_through_helpers_that_assert_they_exist():
    """`.first()` or `.last()` of an empty queryset is None, and a test reading a
    field of None fails with an unrelated error; `audit_row` says the row is missing."""
    reading = re.compile(
        r"AuditLog\.objects\.(get|first|last|latest|filter\([^)]*\)\.(first|last|get))"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("tests/**/*.py"))
        if path.name != "helpers.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if reading.search(line)
    ]
    assert offenders == [], "use security.tests.helpers.audit_row / audit_rows"
