"""The admin's user search box: each word narrows the list; a word of three
characters or more is found anywhere in a username, email or name, a shorter one at
the start of one; LIKE's wildcards are plain characters."""

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.world import builtin


@pytest.fixture
def staffed(client, db):
    # Named, not a generated name: one starting with "A" or holding "ice" would be found.
    admin = UserFactory(
        username="root", name="Root", is_staff=True, is_superuser=True, role=builtin("admin")
    )
    client.force_login(admin)
    UserFactory(username="alice.moreau", email="alice@lab.example", name="Alice Moreau")
    UserFactory(username="lisa.tanaka", email="lt@shop.example", name="Lisa Tanaka")
    UserFactory(
        username="kenji", email="k@uni.example", name="", first_name="Kenji", last_name="Sato"
    )
    UserFactory(username="percent", email="p@lab.example", name="100% sure_thing")
    return client


def _found(client, term: str) -> set[str]:
    response = client.get("/admin/accounts/user/", {"q": term})
    assert response.status_code == 200
    return {user.username for user in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("term", "usernames"),
    [
        ("ice", {"alice.moreau"}),
        ("TANAKA", {"lisa.tanaka"}),
        ("shop.exam", {"lisa.tanaka"}),
        ("sato", {"kenji"}),
        ("li", {"lisa.tanaka"}),  # two letters: the start only, not alice's "li"
        ("a", {"alice.moreau"}),
        ("lab alice", {"alice.moreau"}),
        ("lab moreau tanaka", set()),
        ('"Alice Moreau"', {"alice.moreau"}),
        ("100% sure_", {"percent"}),
        ("0_", set()),
        ("%", set()),
        ("nobody", set()),
    ],
)
def test_admin_user_search(staffed, term, usernames):
    assert _found(staffed, term) == usernames


def test_admin_user_search_counts_what_it_finds(staffed):
    response = staffed.get("/admin/accounts/user/", {"q": "lab.example"})

    assert response.context["cl"].result_count == 2


@pytest.mark.parametrize("rare_rows", [1, 3, 2_000])
def test_admin_user_search_words_common_alone_but_rare_together(staffed, monkeypatch, rare_rows):
    """Whether no word, the pair, or each word counts as rare (the threshold moved
    to make these few users "many"), the search finds the same users."""
    monkeypatch.setattr("accounts.selectors.RARE_WORD_ROWS", rare_rows)
    for n in range(3):
        UserFactory(username=f"sofia.tanaka{n}", name=f"Sofia Tanaka {n}")
        UserFactory(username=f"emma.rossi{n}", name=f"Emma Rossi {n}")
    UserFactory(username="sofia.rossi", name="Sofia Rossi")
    UserFactory(username="s.r", first_name="Sofia", last_name="Rossi")

    assert _found(staffed, "sofia rossi") == {"sofia.rossi", "s.r"}
    assert _found(staffed, "rossi sofia") == {"sofia.rossi", "s.r"}
    assert _found(staffed, "sofia emma") == set()
    # Two letters match the start of a column only: "Rossi" starts s.r's last name.
    assert _found(staffed, "so ro") == {"s.r"}
