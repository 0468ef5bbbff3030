"""Fill the large tables with generated rows in a few `INSERT … SELECT generate_series`
statements (PostgreSQL only), then ANALYZE them, so the planner chooses as it would
for a production-sized service. Used by the query-plan tests."""

from django.db import connection

BIG_TABLES = (
    "accounts_user",
    "accounts_loginsession",
    "security_auditlog",
    "security_securityevent",
    "messagelog_messagelog",
    "credits_creditaccount",
    "credits_creditledgerentry",
)

_TENANTS = """
INSERT INTO tenants_tenant (created_at, updated_at, name, slug, description, domain,
                            is_active, settings)
SELECT now(), now(), 'Tenant ' || i, 'tenant-' || i, '', '', true, '{}'
FROM generate_series(1, %(tenants)s) AS i
"""

# Words the realistic users' names are made of: every name, username and address
# differs, and they share trigrams as real ones do (no common "member" stem).
FIRST_NAMES = (
    "Aaliyah",
    "Adam",
    "Ahmed",
    "Aiko",
    "Alejandro",
    "Alice",
    "Amara",
    "Amir",
    "Ana",
    "Andrei",
    "Anna",
    "Arjun",
    "Astrid",
    "Aylin",
    "Beatriz",
    "Benjamin",
    "Bianca",
    "Bo",
    "Camila",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Dmitri",
    "Elena",
    "Elif",
    "Emeka",
    "Emma",
    "Erik",
    "Fatima",
    "Felix",
    "Freya",
    "Gabriel",
    "Giulia",
    "Hana",
    "Hannah",
    "Hiroshi",
    "Ibrahim",
    "Ines",
    "Ingrid",
    "Isabel",
    "Ivan",
    "Jakob",
    "Javier",
    "Jin",
    "Joao",
    "Jonas",
    "Julia",
    "Kai",
    "Karim",
    "Kenji",
    "Lars",
    "Laura",
    "Leila",
    "Liam",
    "Lina",
    "Lucas",
    "Luis",
    "Maja",
    "Marco",
    "Maria",
    "Mateo",
    "Mei",
    "Mia",
    "Mohammed",
    "Nadia",
    "Nia",
    "Noah",
    "Nora",
    "Olga",
    "Oliver",
    "Omar",
    "Pablo",
    "Paula",
    "Priya",
    "Rafael",
    "Rania",
    "Ravi",
    "Rosa",
    "Sakura",
    "Sami",
    "Sara",
    "Sebastian",
    "Sofia",
    "Sven",
    "Tariq",
    "Thomas",
    "Tomas",
    "Valentina",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
)
LAST_NAMES = (
    "Abe",
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brown",
    "Castillo",
    "Chen",
    "Costa",
    "Cruz",
    "Dubois",
    "Eriksson",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Gomez",
    "Gonzalez",
    "Hansen",
    "Hoffmann",
    "Horvath",
    "Ibrahim",
    "Ivanova",
    "Jansen",
    "Jensen",
    "Johansson",
    "Kaya",
    "Khan",
    "Kim",
    "Kowalski",
    "Kruger",
    "Larsen",
    "Lee",
    "Lefebvre",
    "Lopez",
    "Martin",
    "Martinez",
    "Meyer",
    "Moreau",
    "Muller",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Nielsen",
    "Novak",
    "Okafor",
    "Olsen",
    "Ortiz",
    "Park",
    "Patel",
    "Pereira",
    "Petrov",
    "Popescu",
    "Quinn",
    "Ramos",
    "Reyes",
    "Ricci",
    "Rossi",
    "Sato",
    "Schmidt",
    "Schneider",
    "Silva",
    "Singh",
    "Smith",
    "Sousa",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Torres",
    "Novotny",
    "Wagner",
    "Walsh",
    "Wang",
    "Weber",
    "Williams",
    "Wilson",
    "Wojcik",
    "Yamamoto",
    "Yilmaz",
    "Zhang",
    "Zimmermann",
)
MAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "corp.example",
    "studio.example",
    "lab.example",
    "uni.example",
    "shop.example",
    "cloud.example",
)

# Users spread over two years of sign-ups, a tenth suspended or pending, a third
# verified, every tenth in a tenant, the four plans in turn.
_USERS = """
INSERT INTO accounts_user (password, is_superuser, created_at, updated_at, username, email,
    name, first_name, last_name, status, user_type, about_me, hobbies, subscription_plan,
    preferences, is_verified, is_staff, tenant_id, role_id, pending_email,
    status_before_deletion, support_level, avatar, phone, billing_email)
SELECT '!', false, now() - (i * interval '63 seconds'), now(),
    {username}, {email}, {name}, {first_name}, {last_name},
    (ARRAY['active','active','active','active','active','active','active','active',
           'suspended','pending'])[1 + i %% 10],
    'Personal', '', '', (ARRAY['free','basic','premium','enterprise'])[1 + i %% 4],
    '{}', i %% 3 = 0, false,
    CASE WHEN i %% 10 = 0 THEN (SELECT min(id) FROM tenants_tenant) + (i / 10) %% %(tenants)s END,
    (SELECT id FROM accounts_role WHERE name = 'user' AND tenant_id IS NULL),
    '', '', '', '', '', ''
FROM generate_series(1, %(users)s) AS i
"""

# `member<i>`: names a test can guess (member4242), sharing most of their trigrams.
_NUMBERED_NAMES = {
    "username": "'member' || i",
    "email": "'member' || i || '@example.com'",
    "name": "'Member ' || i",
    "first_name": "'First' || i",
    "last_name": "'Last' || i",
}


def _word(words: tuple[str, ...] | list[str], salt: int) -> str:
    """SQL picking one of `words` for row `i`, spread by a hash (not in turn)."""
    quoted = ",".join(f"'{word}'" for word in words)
    return f"(ARRAY[{quoted}])[1 + abs(hashtext(i::text || '{salt}')) %% {len(words)}]"


# Realistic ones: first and last names from the lists, `first.last<n>` usernames
# (unique by the row number) and addresses at a handful of domains.
_FIRST, _LAST = _word(FIRST_NAMES, 1), _word(LAST_NAMES, 2)
_REALISTIC_NAMES = {
    "username": f"lower({_FIRST} || '.' || {_LAST}) || i",
    "email": f"lower({_FIRST} || '.' || {_LAST}) || i || '@' || {_word(MAIL_DOMAINS, 3)}",
    "name": f"{_FIRST} || ' ' || {_LAST}",
    "first_name": _FIRST,
    "last_name": _LAST,
}


_SESSIONS = """
INSERT INTO accounts_loginsession (id, ip_address, user_agent, remember_me, refresh_jti,
    created_at, last_seen_at, expires_at, revoked_at, revoked_reason, user_id, mfa_verified,
    surface)
SELECT gen_random_uuid(), '10.0.0.1', 'agent', false, md5(i::text),
    now() - (i * interval '31 seconds'), now(), now() + interval '1 day',
    NULL, '', (SELECT min(id) FROM accounts_user) + i %% %(users)s, false, 'api'
FROM generate_series(1, %(sessions)s) AS i
"""

_AUDIT = """
INSERT INTO security_auditlog (occurred_at, actor_id, actor_kind, actor_label, action,
    target_type, target_id, tenant_id, changes, ip_address, user_agent, request_id)
SELECT now() - (i * interval '29 seconds'), NULL, 'system', '',
    (ARRAY['session.start','user.update','api_key.create','credits.change'])[1 + i %% 4],
    'accounts.user', (i %% %(users)s)::text, NULL, '{}', '10.0.0.1', '', md5(i::text)
FROM generate_series(1, %(audit)s) AS i
"""

_EVENTS = """
INSERT INTO security_securityevent (occurred_at, kind, severity, user_id, username,
    ip_address, user_agent, path, details, request_id)
SELECT now() - (i * interval '29 seconds'),
    (ARRAY['login_failed','ip_blocked'])[1 + i %% 2],
    (ARRAY['info','warning','critical'])[1 + i %% 3], NULL, 'member' || i, '10.0.0.1', '',
    '/api/v1/auth/login', '{}', md5(i::text)
FROM generate_series(1, %(events)s) AS i
"""

# Conversations spread over every user: the newest page of one of them must come from
# messagelog_user_time_idx, not from a walk of the whole log.
_MESSAGES = """
INSERT INTO messagelog_messagelog (id, user_id, username, email, model, messages,
    research_enabled, r_type, tokens_used, processing_time_ms, ip_address, "timestamp")
SELECT gen_random_uuid(), (SELECT min(id) FROM accounts_user) + i %% %(users)s, 'member',
    'member@example.com', 'echo-1', '[]', false, '', 10, 5, NULL, now() - (i * interval '7 seconds')
FROM generate_series(1, %(messages)s) AS i
"""

_ACCOUNTS = """
INSERT INTO credits_creditaccount (main_credits, main_reset, conversation_limit,
    conversation_reset, last_reset_on, updated_at, user_id, used_today)
SELECT 100, 100, 10, 10, current_date, now() - (id * interval '1 second'), id, 0
FROM accounts_user
"""

_LEDGER = """
INSERT INTO credits_creditledgerentry (actor_id, kind, reason, before, after, created_at,
    account_id)
SELECT NULL, 'staff_change', '', '{}', '{}', now() - (i * interval '17 seconds'),
    (SELECT min(id) FROM credits_creditaccount) + i %% %(users)s
FROM generate_series(1, %(ledger)s) AS i
"""


def populate_big_tables(
    *,
    users: int,
    sessions: int,
    audit: int,
    events: int,
    messages: int,
    ledger: int,
    tenants: int = 20,
    realistic_names: bool = False,
) -> None:
    """Add generated rows to each large table and ANALYZE them (inside the caller's
    transaction on PostgreSQL, so a test's rows vanish with its rollback).
    `realistic_names` gives the users varied names from word lists instead of
    `member<i>`, for measuring a substring search as it behaves on real names."""
    sizes = {
        "users": users,
        "sessions": sessions,
        "audit": audit,
        "events": events,
        "messages": messages,
        "ledger": ledger,
        "tenants": tenants,
    }
    with connection.cursor() as cursor:
        names = _REALISTIC_NAMES if realistic_names else _NUMBERED_NAMES
        users_sql = _USERS.replace("'{}'", "'{{}}'").format(**names)
        for statement in (
            _TENANTS,
            users_sql,
            _SESSIONS,
            _AUDIT,
            _EVENTS,
            _MESSAGES,
            _ACCOUNTS,
            _LEDGER,
        ):
            cursor.execute(statement, sizes)
        for table in (*BIG_TABLES, "tenants_tenant", "accounts_role"):
            cursor.execute(f"ANALYZE {table}")
