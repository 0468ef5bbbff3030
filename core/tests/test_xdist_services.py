import os

import pytest

from core.tests.xdist_services import use_own_redis, worker_redis_url


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/14", "gw0", "redis://127.0.0.1:6379/14"),
        ("redis://127.0.0.1:6379/14", "gw1", "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379/15", "gw2", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "gw3", "redis://127.0.0.1:6379/3"),
        ("redis://:secret@cache.internal:6380/2", "gw1", "redis://:secret@cache.internal:6380/3"),
    ],
)
def test_each_worker_gets_its_own_database_on_the_same_server(url, worker, expected):
    assert worker_redis_url(url, worker) == expected


@pytest.fixture
def clean_environment(monkeypatch):
    """None of the variables set; each is put back as it was, whoever changed it."""
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_DB", "CACHE_KEY_PREFIX"):
        monkeypatch.setenv(name, "")  # records the value to restore, even none
        monkeypatch.delenv(name)
    return monkeypatch


def test_a_redis_url_from_the_env_file_is_moved_too(clean_environment, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("REDIS_URL=redis://127.0.0.1:6379/4\n")
    clean_environment.setenv("CACHE_KEY_PREFIX", "um-test")

    use_own_redis("gw2", env_file)

    assert os.environ["REDIS_URL"] == "redis://127.0.0.1:6379/6"
    assert os.environ["CACHE_KEY_PREFIX"] == "um-test-gw2"


def test_redis_named_by_host_moves_its_database(clean_environment, tmp_path):
    clean_environment.setenv("REDIS_HOST", "127.0.0.1")
    clean_environment.setenv("REDIS_DB", "9")

    use_own_redis("gw1", tmp_path / "missing.env")

    assert os.environ["REDIS_DB"] == "10"
    assert "REDIS_URL" not in os.environ
    assert os.environ["CACHE_KEY_PREFIX"] == "um-gw1"
