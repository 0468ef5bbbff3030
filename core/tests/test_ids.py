import pytest

from core.ids import LARGEST_ID, id_from_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("0", 0),
        (str(LARGEST_ID), LARGEST_ID),
        (str(LARGEST_ID + 1), None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("1e3", None),
        ("", None),
    ],
)
def test_an_id_is_ascii_digits_a_key_column_can_hold(text, expected):
    assert id_from_text(text) == expected
