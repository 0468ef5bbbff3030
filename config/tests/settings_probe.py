"""Read settings as a fresh process would see them for a given environment."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from core import signing_keys

BASE_DIR = Path(__file__).resolve().parents[2]


def run_django(
    code: str, env: dict[str, str], *, check: bool = True
) -> subprocess.CompletedProcess:
    """Run Python code after django.setup() in a child process with only `env` set.

    Unless `env` names one, the child's local key file is made in a directory of
    its own, so neither this install's key file nor another probe's is seen.
    """
    script = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings';"
        f"django.setup();\n{code}"
    )
    with tempfile.TemporaryDirectory() as keys_dir:
        if "SECRET_KEYS_FILE" not in env:
            signing_keys.ensure_keys(Path(keys_dir) / "secret-keys.env")
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=BASE_DIR,
            env={
                "PATH": "/usr/bin:/bin",
                "SECRET_KEYS_FILE": str(Path(keys_dir) / "secret-keys.env"),
                **env,
            },
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )


def setting_values(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json; from django.conf import settings;"
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    return json.loads(run_django(code, env).stdout.strip().splitlines()[-1])
