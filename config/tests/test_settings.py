import environ
import pytest

from config.tests.settings_probe import run_django, setting_values
from core.env_urls import database_url_from_env, redis_url_from_env

STRONG = "k" * 30 + "Q7!x" * 10


def test_production_refuses_default_secret_key(tmp_path):
    no_key_file = str(tmp_path / "secret-keys.env")

    result = run_django(
        "", {"ENVIRONMENT": "production", "SECRET_KEYS_FILE": no_key_file}, check=False
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_default_jwt_secret():
    env = {"ENVIRONMENT": "production", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": "your-jwt-secret"}

    result = run_django("", env, check=False)

    assert result.returncode != 0
    assert "JWT_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("hour", ["24", "-1"])
def test_a_reset_hour_outside_the_day_is_refused_at_start(hour):
    result = run_django("", {"DAILY_USAGE_RESET_HOUR": hour}, check=False)

    assert result.returncode != 0
    assert "DAILY_USAGE_RESET_HOUR is an hour of the day" in result.stderr


def test_production_settings_pass_check_deploy():
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG[::-1],
        "ALLOWED_HOSTS": "users.example.com",
    }
    code = (
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')"
    )

    result = run_django(code, env, check=False)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"DATABASE_URL": "postgres://u:p@db:5432/app"}, "postgres://u:p@db:5432/app"),
        ({"DATABASE_URL": "postgresql+asyncpg://u@db/app"}, "postgresql://u@db/app"),
        ({"DATABASE_URL": "sqlite+aiosqlite:///./x.db"}, "sqlite:///./x.db"),
        (
            {"POSTGRES_HOST": "pg", "POSTGRES_DB": "multimodal", "POSTGRES_PASSWORD": "s3cr/t"},
            "postgres://postgres:s3cr%2Ft@pg:5432/multimodal",
        ),
        (
            {
                "DATABASE_HOST": "db",
                "DATABASE_PORT": "6543",
                "DATABASE_NAME": "aima_users",
                "DATABASE_USER": "aima_user",
            },
            "postgres://aima_user@db:6543/aima_users",
        ),
    ],
)
def test_database_url_from_documented_variables(monkeypatch, tmp_path, variables, expected):
    for name in ("DATABASE_URL", "POSTGRES_HOST", "DATABASE_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    assert database_url_from_env(environ.Env(), default_sqlite_path=tmp_path / "db") == expected


def test_database_defaults_to_sqlite_file(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "POSTGRES_HOST", "DATABASE_HOST"):
        monkeypatch.delenv(name, raising=False)

    url = database_url_from_env(environ.Env(), default_sqlite_path=tmp_path / "var" / "db.sqlite3")

    assert url == f"sqlite:///{tmp_path}/var/db.sqlite3"
    assert not (tmp_path / "var").exists(), "reading the settings makes no folder"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, ""),
        ({"REDIS_URL": "redis://cache:6380/2"}, "redis://cache:6380/2"),
        ({"REDIS_HOST": "cache", "REDIS_DB": "5"}, "redis://cache:6379/5"),
    ],
)
def test_redis_url_from_documented_variables(monkeypatch, variables, expected):
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    assert redis_url_from_env(environ.Env()) == expected


def test_documented_defaults():
    values = setting_values(
        {},
        "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
        "JWT_REFRESH_TOKEN_EXPIRE_DAYS",
        "REFRESH_TOKEN_DURATION_DAYS",
        "USER_REGISTRATION_ENABLED",
        "EMAIL_VERIFICATION_ENABLED",
        "MAX_FAILED_LOGIN_ATTEMPTS",
        "MESSAGE_BATCH_SIZE",
        "DEFAULT_USER_CREDITS",
        "DEFAULT_USER_LIMITS",
        "CELERY_TASK_ALWAYS_EAGER",
        "DEBUG",
    )

    assert values == {
        "JWT_ACCESS_TOKEN_EXPIRE_MINUTES": 30,
        "JWT_REFRESH_TOKEN_EXPIRE_DAYS": 7,
        "REFRESH_TOKEN_DURATION_DAYS": 30,
        "USER_REGISTRATION_ENABLED": True,
        "EMAIL_VERIFICATION_ENABLED": False,
        "MAX_FAILED_LOGIN_ATTEMPTS": 5,
        "MESSAGE_BATCH_SIZE": 50,
        "DEFAULT_USER_CREDITS": {"main": 5, "reset": 5},
        "DEFAULT_USER_LIMITS": {"conversation_limit": 10, "reset": 10},
        "CELERY_TASK_ALWAYS_EAGER": True,
        "DEBUG": False,
    }


def test_environment_overrides_token_lifetimes():
    values = setting_values(
        {"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "5", "JWT_REFRESH_TOKEN_EXPIRE_DAYS": "2"},
        "SIMPLE_JWT",
    )

    assert values["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"] == "0:05:00"
    assert values["SIMPLE_JWT"]["REFRESH_TOKEN_LIFETIME"] == "2 days, 0:00:00"


def test_broker_url_turns_off_inline_tasks():
    values = setting_values(
        {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/1"}, "CELERY_TASK_ALWAYS_EAGER"
    )

    assert values == {"CELERY_TASK_ALWAYS_EAGER": False}
