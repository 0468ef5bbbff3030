"""The JSON body parser of every API view: bounded depth, text PostgreSQL can store.

A body nested deeper than MAX_JSON_DEPTH is refused (400 JSON_TOO_DEEP) before
anything walks it: Python's decoder, the serializers, the renderer and the jsonb
adapter all recurse, and would fail with RecursionError at different depths. A
string (key or value) holding NUL or a lone UTF-16 surrogate is refused (400
INVALID_CHARACTERS): PostgreSQL text cannot hold NUL, and a lone surrogate cannot
be written as UTF-8 anywhere (database, cache, log, response).
"""

import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

from core.errors import CommonErrorCode

MAX_JSON_DEPTH = 32
BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")

JSON_TOO_DEEP = CommonErrorCode.JSON_TOO_DEEP
INVALID_CHARACTERS = CommonErrorCode.INVALID_CHARACTERS


def too_deep() -> ParseError:
    return ParseError(
        f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted.", code=JSON_TOO_DEEP
    )


def invalid_characters(where: str = "The request body") -> ParseError:
    return ParseError(
        f"{where} contains NUL or a lone UTF-16 surrogate, which no text may hold.",
        code=INVALID_CHARACTERS,
    )


def has_bad_characters(text: str) -> bool:
    return BAD_CHARACTERS.search(text) is not None


def check_json_value(value: Any) -> None:
    """Refuse a decoded JSON value nested too deep or holding unstorable characters.

    Iterative, so that checking cannot itself run out of stack.
    """
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if has_bad_characters(item):
                raise invalid_characters()
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise too_deep()
            if isinstance(item, dict):
                for key, child in item.items():
                    if has_bad_characters(key):
                        raise invalid_characters()
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


def _may_be_unsafe(text: str) -> bool:
    """False when the text cannot decode to anything check_json_value refuses.

    NUL and surrogates reach a decoded string through a `\\u` escape or, when the
    body's charset can spell them (utf-7, unicode_escape), raw in the text (the
    decoder refuses a raw NUL, not a raw surrogate); nesting needs one bracket per
    level: most bodies skip the walk.
    """
    return (
        "\\u" in text
        or text.count("[") + text.count("{") > MAX_JSON_DEPTH
        or has_bad_characters(text)
    )


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"The request body is not valid {encoding}.") from exc
        parse_constant = json.strict_constant if self.strict else None
        try:
            value = json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:
            raise too_deep() from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if _may_be_unsafe(text):
            check_json_value(value)
        return value
