"""An install given no signing keys gets random ones from `make keys`, kept privately;
settings only read them."""

import json
import os
import stat
import subprocess
import sys

from config.tests.settings_probe import BASE_DIR, run_django

PRINT_KEYS = (
    "import json; from django.conf import settings;"
    "print(json.dumps([settings.SECRET_KEY, settings.JWT_SECRET_KEY]))"
)


def _keys_of_a_start(keys_file, **env) -> list[str]:
    result = run_django(PRINT_KEYS, {"SECRET_KEYS_FILE": str(keys_file), **env})
    return json.loads(result.stdout.strip().splitlines()[-1])


def _make_keys(keys_file, **env) -> subprocess.CompletedProcess:
    """What `make keys` runs."""
    return subprocess.run(
        [sys.executable, "-m", "core.signing_keys"],
        cwd=BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEYS_FILE": str(keys_file), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def test_make_keys_makes_a_private_file_that_every_start_uses(tmp_path):
    keys_file = tmp_path / "var" / "secret-keys.env"
    _make_keys(keys_file)

    first = _keys_of_a_start(keys_file)
    second = _keys_of_a_start(keys_file)

    assert first == second
    secret_key, jwt_secret_key = first
    assert secret_key != jwt_secret_key
    assert min(len(secret_key), len(jwt_secret_key)) >= 50
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert f"SECRET_KEY={secret_key}\n" in keys_file.read_text()
    assert [path.name for path in keys_file.parent.iterdir()] == ["secret-keys.env"]


def test_a_start_without_keys_refuses_and_writes_nothing(tmp_path):
    keys_file = tmp_path / "var" / "secret-keys.env"

    result = run_django("", {"SECRET_KEYS_FILE": str(keys_file)}, check=False)

    assert result.returncode != 0
    assert "run `make keys`" in result.stderr
    assert not (tmp_path / "var").exists()


def test_two_installs_never_share_a_key(tmp_path):
    _make_keys(tmp_path / "one.env")
    _make_keys(tmp_path / "other.env")
    one = _keys_of_a_start(tmp_path / "one.env")
    other = _keys_of_a_start(tmp_path / "other.env")

    assert not set(one) & set(other)


def test_key_makers_running_at_once_agree_on_the_keys(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEYS_FILE": str(tmp_path / "secret-keys.env")}
    script = (
        "import json, os; from pathlib import Path; from core import signing_keys;"
        "print(json.dumps(signing_keys.ensure_keys(Path(os.environ['SECRET_KEYS_FILE']))))"
    )
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE
        )
        for _ in range(6)
    ]
    outputs = {start.communicate(timeout=60)[0] for start in starts}

    assert all(start.returncode == 0 for start in starts)
    assert len(outputs) == 1


def test_configured_keys_win_and_no_file_is_made(tmp_path):
    secret, jwt_secret = "s" * 60, "j" * 60

    keys = _keys_of_a_start(
        tmp_path / "secret-keys.env", SECRET_KEY=secret, JWT_SECRET_KEY=jwt_secret
    )

    assert keys == [secret, jwt_secret]
    assert not (tmp_path / "secret-keys.env").exists()


def test_production_runs_on_the_file_that_make_run_prepares(tmp_path):
    keys_file = tmp_path / "secret-keys.env"
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEYS_FILE": str(keys_file)}
    prepared = subprocess.run(
        [sys.executable, "-m", "core.signing_keys"],
        cwd=BASE_DIR,
        env={**env, "ENVIRONMENT": "production"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(keys_file) in prepared.stdout

    keys = _keys_of_a_start(keys_file, ENVIRONMENT="production", ALLOWED_HOSTS="x.example")

    assert f"SECRET_KEY={keys[0]}\nJWT_SECRET_KEY={keys[1]}\n" == keys_file.read_text()


def test_production_without_keys_or_key_file_refuses_to_start(tmp_path):
    result = run_django(
        "", {"ENVIRONMENT": "production", "SECRET_KEYS_FILE": str(tmp_path / "none")}, check=False
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert not (tmp_path / "none").exists()


def test_a_key_file_others_can_read_is_refused(tmp_path):
    keys_file = tmp_path / "secret-keys.env"
    _make_keys(keys_file)
    os.chmod(keys_file, 0o644)

    result = run_django("", {"SECRET_KEYS_FILE": str(keys_file)}, check=False)

    assert result.returncode != 0
    assert "readable by its owner only" in result.stderr


def test_published_example_keys_are_refused_in_every_environment():
    result = run_django("", {"SECRET_KEY": "your-secret-key"}, check=False)

    assert result.returncode != 0
    assert "SECRET_KEY must be set to a private random value" in result.stderr


def test_this_test_run_signs_with_keys_of_its_own(settings):
    assert os.environ["SECRET_KEY"] == settings.SECRET_KEY
    assert os.environ["JWT_SECRET_KEY"] == settings.JWT_SECRET_KEY
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == settings.JWT_SECRET_KEY
    assert "insecure" not in (BASE_DIR / "config" / "settings.py").read_text().lower()
