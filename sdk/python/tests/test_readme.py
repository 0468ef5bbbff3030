"""The README's quick start runs as written against the service: only the service's
address, the tenant admin's address and the placeholders for secrets are filled in."""

import re
from pathlib import Path

import pytest

from ai_marketplace.users import UserClient

from .conftest import PASSWORD

pytestmark = pytest.mark.live

README = Path(__file__).resolve().parents[1] / "README.md"


def quick_start_blocks() -> list[str]:
    """The Python blocks of the README's "Quick start" section, in order."""
    text = README.read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_quick_start_runs_as_written(sdk_service, organisation, capsys):
    from accounts.models import User as Account

    def filled_in(block: str) -> str:
        return (
            block.replace('"https://users.example.com"', repr(sdk_service.url))
            .replace('"admin@example.com"', repr(organisation.admin.email))
            .replace('password="..."', f"password={PASSWORD!r}")
            .replace('api_key="pe-..."', "api_key=provisioning_key.api_key")
        )

    # One session, as a reader runs them: the key is made first, then used.
    uses_key, makes_key, signs_in = quick_start_blocks()
    session: dict = {"UserClient": UserClient}
    exec(filled_in(makes_key), session)  # noqa: S102 - the README's own code
    exec(filled_in(uses_key), {**session, "provisioning_key": session["key"]})  # noqa: S102
    exec(filled_in(signs_in), session)  # noqa: S102

    printed = capsys.readouterr().out.splitlines()
    assert printed[1:3] == ["custom_role", "user@example.com"]
    user = Account.objects.get(email="user@example.com")
    assert (user.tenant_id, user.role.name) == (organisation.tenant.pk, "custom_role")
    assert user.preferences == {
        "theme": "dark",
        "notifications": {"email": True, "slack": False},
        "language": "en",
    }
    assert printed[3] == str(session["metered"].credits().conversations_left)
