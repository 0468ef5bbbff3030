"""What the API key tests share: a metered request made with a key."""

import re

COMPLETIONS = "/v1/prompt/completions"


PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}


KEY_FORMAT = re.compile(r"^pe-[A-Za-z0-9_-]{32}$")


def use_key(api_client, key: str, **extra):
    return api_client.post(
        COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}", **extra
    )
