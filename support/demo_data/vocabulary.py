"""Words the demo data is made of, and the hash that picks among them.

A tiny deterministic generator instead of a fake-data library: the command must run
on an install made from requirements.txt alone, and a row's attributes must be a pure
function of (seed, index) so that every table can rebuild a user's name or join date
without keeping a million of them in memory.
"""

from django.utils.text import slugify

from accounts.authz.roles import Permission

_MASK = (1 << 64) - 1


def mix(value: int) -> int:
    """splitmix64: a 64-bit integer whose bits look independent of the input's."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


# fmt: off
FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda",
    "william", "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica",
    "thomas", "sarah", "charles", "karen", "daniel", "nancy", "matthew", "lisa", "anthony",
    "betty", "mark", "sandra", "paul", "ashley", "steven", "emily", "andrew", "donna",
    "joshua", "michelle", "kevin", "carol", "brian", "amanda", "george", "melissa",
    "maria", "jose", "juan", "ana", "carlos", "lucia", "miguel", "sofia", "diego", "elena",
    "wei", "li", "jun", "mei", "hiroshi", "yuki", "haruto", "sakura", "min-jun", "seo-yeon",
    "arjun", "priya", "rahul", "ananya", "vikram", "deepa", "mohammed", "fatima", "omar",
    "aisha", "yusuf", "leila", "lars", "ingrid", "sven", "astrid", "pierre", "camille",
    "louis", "chloe", "hans", "greta", "lukas", "mia", "giuseppe", "giulia", "marco",
    "chiara", "olga", "ivan", "dmitri", "natasha", "kwame", "amara", "chidi", "zainab",
    "tomasz", "zofia", "noah", "olivia", "liam", "emma", "ethan", "ava", "lucas", "isla",
)
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
    "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson",
    "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white",
    "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young",
    "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores", "green",
    "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter",
    "wang", "zhang", "chen", "liu", "yang", "tanaka", "suzuki", "sato", "kim", "park",
    "choi", "patel", "sharma", "singh", "kumar", "gupta", "khan", "ali", "hassan",
    "ibrahim", "larsen", "nielsen", "johansson", "berg", "dubois", "moreau", "laurent",
    "muller", "schmidt", "schneider", "fischer", "rossi", "russo", "ferrari", "bianchi",
    "ivanov", "petrov", "smirnov", "okafor", "mensah", "adeyemi", "nowak", "kowalski",
    "silva", "santos", "oliveira", "costa", "murphy", "kelly", "obrien", "walsh",
)
COMPANY_WORDS = (
    "acme", "northwind", "contoso", "fabrikam", "globex", "initech", "umbrella", "stark",
    "wayne", "tyrell", "cyberdyne", "soylent", "hooli", "pied piper", "vandelay", "wonka",
    "blue harbor", "red maple", "silver oak", "bright path", "clear sky", "deep field",
    "iron bridge", "quantum leaf", "swift river", "golden gate", "true north", "sunlit",
)
COMPANY_KINDS = (
    "labs", "analytics", "systems", "health", "logistics", "media", "robotics",
    "finance", "studios", "research", "energy", "foods", "travel", "learning", "legal",
)
COMPANY_SUFFIXES = ("Inc.", "Ltd", "GmbH", "Group", "Co.", "LLC", "SA", "AG")
# fmt: on

# Reserved for documentation (RFC 2606): no demo address can ever reach a real mailbox.
PERSONAL_MAIL_DOMAINS = ("mail.example", "inbox.example", "post.example")
# RFC 5737 documentation networks: realistic shape, nobody's address.
IP_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "python-httpx/0.28.1",
    "okhttp/4.12.0",
    "curl/8.8.0",
)

ABOUT_ME = (
    "",
    "",
    "",
    "Data scientist working on forecasting models.",
    "Product manager exploring assistants for customer support.",
    "Backend developer; I mostly ask about Python and SQL.",
    "Student of computational linguistics.",
    "Writer using models to brainstorm and edit drafts.",
    "Researcher in applied machine learning.",
    "Teacher preparing lessons and exercises.",
)
HOBBIES = ("", "", "hiking, chess", "photography", "cycling, cooking", "reading, running", "music")

PREFERENCES = (
    '{"theme": "light", "language": "en"}',
    '{"theme": "dark", "language": "en"}',
    '{"theme": "dark", "language": "de", "notifications": {"email": false}}',
    '{"theme": "system", "language": "fr"}',
    '{"theme": "light", "language": "es", "notifications": {"email": true}}',
    "{}",
)

# (model name, weight): the metered traffic's mix.
MODELS = (
    ("gpt-4o-mini", 30),
    ("gpt-4o", 20),
    ("claude-3-5-sonnet", 15),
    ("llama-3.1-70b-instruct", 12),
    ("mistral-large", 8),
    ("gemini-1.5-pro", 8),
    ("deepseek-chat", 7),
)
R_TYPES = ("", "", "", "chat", "search", "code", "summary")

TOPICS = (
    "gradient descent",
    "database indexing",
    "the French revolution",
    "photosynthesis",
    "compound interest",
    "TCP congestion control",
    "the water cycle",
    "Kubernetes pods",
    "transformer attention",
    "supply and demand",
    "black holes",
    "the immune system",
    "unit testing",
    "climate change",
    "public key cryptography",
    "Roman architecture",
    "sourdough baking",
    "marathon training",
    "quarterly budgeting",
    "GDPR compliance",
)
TASKS = (
    "parses a CSV file and sums a column",
    "retries an HTTP request with exponential backoff",
    "validates an email address",
    "merges two sorted lists",
    "reads a JSON config and applies defaults",
    "counts word frequencies in a text",
    "deduplicates records by a key",
)
LANGUAGES = ("Python", "TypeScript", "Go", "Rust", "SQL", "Java", "Bash")
PROMPT_TEMPLATES = (
    "Can you explain {topic} in simple terms?",
    "Write a {language} function that {task}.",
    "What are the main trade-offs of {topic}? Give me a short list.",
    "Summarise the key ideas of {topic} for a presentation to my team.",
    "I am preparing for an exam on {topic}. Ask me three questions and then explain the answers.",
    "Review this approach: a {language} service that {task}. What could go wrong?",
    "Draft a friendly email to a customer explaining a delay caused by {topic}.",
    "Compare two ways to do this in {language}: a function that {task}.",
)
SYSTEM_PROMPTS = (
    "You are a helpful assistant.",
    "You are a concise technical writer. Answer in short paragraphs.",
    "You are a patient tutor. Explain step by step.",
)
ANSWER_SENTENCES = (
    "The short answer is that it depends on the constraints you care about most.",
    "Let's start with the basic idea and then look at a concrete example.",
    "In practice, most teams begin with the simplest version and measure before optimising.",
    "A common mistake is to treat this as a one-off decision rather than something to revisit.",
    "Here is a step-by-step outline you can adapt to your situation.",
    "First, define the inputs and outputs clearly, including the edge cases.",
    "Second, pick a representation that makes the common operation cheap.",
    "Third, write a few tests that describe the behaviour before you change anything.",
    "The key trade-off is between latency and throughput.",
    "If the data does not fit in memory, stream it in chunks instead of loading it at once.",
    "You can think of it as a pipeline where each stage does one small job.",
    "This works well for small inputs, but it becomes slow as the input grows.",
    "The historical context matters here, because the rules changed over time.",
    "To summarise: keep it simple, measure, and iterate.",
    "Keep in mind that the numbers below are rough estimates, not guarantees.",
    "An analogy that often helps is a library with a well-organised catalogue.",
    "Error handling deserves as much attention as the happy path.",
    "If you share more details about your setup, I can give a more specific answer.",
    "There are three main approaches, each with its own strengths.",
    "The second approach is usually the best default for a team of your size.",
)
CODE_SNIPPETS = (
    "```python\ndef total(rows, column):\n    return sum(float(row[column]) for row in rows)\n```",
    "```python\nfor attempt in range(5):\n    try:\n        return fetch(url)\n"
    "    except TimeoutError:\n        time.sleep(2 ** attempt)\n```",
    "```sql\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n```",
    "```go\nfunc merge(a, b []int) []int {\n\tout := make([]int, 0, len(a)+len(b))\n"
    "\t// ...\n\treturn out\n}\n```",
)

_P = Permission
# fmt: off
# (name, description, permissions) of the custom roles a demo tenant defines.
TENANT_ROLE_CHOICES = (
    ("analyst", "Reads the tenant's users and uses models.",
     [_P.READ_SELF, _P.READ_MODELS, _P.READ_USERS]),
    ("researcher", "Uses and changes models.",
     [_P.READ_SELF, _P.WRITE_SELF, _P.READ_MODELS, _P.WRITE_MODELS]),
    ("billing", "Sees the tenant's users, nothing else.", [_P.READ_SELF, _P.READ_USERS]),
    ("support-lead", "Helps the tenant's users.", [_P.READ_SELF, _P.READ_USERS, _P.WRITE_USERS]),
)
# fmt: on

TENANT_DESCRIPTIONS = (
    "",
    "Customer support assistants for the EMEA region.",
    "Internal research platform.",
    "Marketing content team.",
    "Engineering productivity pilot.",
)


def company_name(hashed: int) -> str:
    word = COMPANY_WORDS[hashed % len(COMPANY_WORDS)]
    kind = COMPANY_KINDS[(hashed >> 8) % len(COMPANY_KINDS)]
    suffix = COMPANY_SUFFIXES[(hashed >> 16) % len(COMPANY_SUFFIXES)]
    return f"{word.title()} {kind.title()} {suffix}"


def company_slug(name: str, number: int) -> str:
    """Unique by the tenant's number, whatever the words."""
    return f"{slugify(name)}-{number}"
