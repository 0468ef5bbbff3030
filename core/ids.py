"""Row ids read from text a client or an admin typed."""

LARGEST_ID = 2**63 - 1  # the largest id a 64-bit key column holds


def id_from_text(text: str) -> int | None:
    """The id `text` spells in ASCII digits, if a key column could hold it, else None.

    `str.isdigit` also takes digits such as "²" that `int` refuses, and SQLite refuses
    a number past 64 bits where PostgreSQL matches nothing: both answered 500."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= LARGEST_ID else None
