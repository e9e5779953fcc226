"""Sample inquiries for the bundled b2b-saas playbook: realistic, messy, seeded.

Used by ``leadflow demo``. The mix follows what practitioners report: most
inquiries are not sales-ready (the demo lands around one in eight), forms
leave questions blank, people type choices their own way, and a few answers
are garbage. Activities follow the person's interest: hot prospects visit
the pricing page and reply to emails, cold ones read a paper and leave.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

FIRST = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jon",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
]
LAST = [
    "Adler",
    "Baker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jansen",
    "Khan",
    "Larsen",
    "Meyer",
    "Novak",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
    "Achebe",
    "Bergstrom",
    "Castillo",
    "Dimitrov",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Haddad",
    "Iyer",
    "Jovanovic",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Oyelaran",
    "Petrov",
    "Quinlan",
    "Rahman",
    "Sato",
    "Thorsen",
    "Ueda",
    "Vasquez",
    "Wojcik",
    "Yilmaz",
    "Zhang",
    "Abara",
    "Brennan",
    "Carvalho",
    "Delacroix",
    "Esposito",
    "Grünewald",
    "Hallström",
    "Ivanova",
    "Jaramillo",
    "Kaur",
    "Lombardi",
    "Mensah",
]
COMPANY = [
    ("Acme Analytics", "software"),
    ("Birch Health", "healthcare"),
    ("Cobalt Bank", "financial_services"),
    ("Delta Retail", "retail"),
    ("Ember Software", "software"),
    ("Fjord Logistics", "other"),
    ("Granite Insurance", "financial_services"),
    ("Harbor Schools", "education"),
    ("Iris Labs", "healthcare"),
    ("Juniper Tech", "software"),
    ("Kestrel Manufacturing", "manufacturing"),
    ("Lumen Media", "other"),
    ("Maple Clinics", "healthcare"),
    ("Nimbus Cloud", "software"),
    ("Orbit Fintech", "financial_services"),
    ("Pine County", "government"),
]
SOURCES = [
    ("website", 30),
    ("webinar", 15),
    ("paid_search", 15),
    ("event", 10),
    ("referral", 6),
    ("partner", 4),
    ("social", 8),
    ("purchased_list", 12),
]


@dataclass(frozen=True)
class Sample:
    inquiries: pl.DataFrame
    activities: pl.DataFrame


def _pick(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _messy(rng: random.Random, value: str) -> str:
    """How people type a choice: as is, in capitals, as words, with stray spaces."""
    style = rng.random()
    if style < 0.55:
        return value
    if style < 0.75:
        return value.replace("_", " ").title()
    if style < 0.85:
        return value.replace("_", "-").upper()
    return f" {value.replace('_', ' ')} "


def _maybe(rng: random.Random, value: str, blank: float) -> str:
    return "" if rng.random() < blank else value


def _person(rng: random.Random, i: int) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company, industry = rng.choice(COMPANY)
    domain = company.lower().split()[0] + ".example"
    return {
        "id": f"inq-{i:06d}",
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}@{domain}",
        "company": company,
        "industry": _maybe(rng, _messy(rng, industry), 0.15),
    }


def _facts(rng: random.Random, warmth: float) -> dict[str, str]:
    """The answers of one inquiry; ``warmth`` in [0, 1) makes good answers likelier."""
    hot = rng.random() < warmth
    size = int(rng.lognormvariate(4.2, 1.6)) + 1
    timeframe = rng.choice([7, 14, 30, 45, 60, 90, 120, 180, 270, 365, 500])
    facts = {
        "product": _maybe(rng, _messy(rng, _pick(rng, [("starter", 55), ("enterprise", 35)])), 0.1),
        "company_size": _maybe(
            rng, f"{size:,}" if size >= 1000 and rng.random() < 0.5 else str(size), 0.2
        ),
        "seniority": _maybe(
            rng,
            _messy(
                rng,
                _pick(
                    rng,
                    [
                        ("executive", 8 + 20 * hot),
                        ("director", 12 + 15 * hot),
                        ("manager", 25),
                        ("individual_contributor", 35),
                        ("student", 12 - 10 * hot),
                    ],
                ),
            ),
            0.1,
        ),
        "country": _maybe(
            rng,
            _pick(
                rng,
                [
                    ("US", 30),
                    ("United Kingdom", 10),
                    ("Germany", 10),
                    ("france", 6),
                    ("Canada", 6),
                    ("nl", 4),
                    ("India", 14),
                    ("Brazil", 10),
                    ("other", 10),
                ],
            ),
            0.1,
        ),
        "is_customer": "yes" if rng.random() < 0.08 else "no",
        "lead_source": _pick(rng, SOURCES),
        "budget": _maybe(
            rng,
            _messy(
                rng,
                _pick(rng, [("approved", 5 + 45 * hot), ("planned", 15 + 25 * hot), ("none", 50)]),
            ),
            0.45 - 0.3 * hot,
        ),
        "decision_role": _maybe(
            rng,
            _messy(
                rng,
                _pick(
                    rng,
                    [
                        ("decision_maker", 8 + 40 * hot),
                        ("influencer", 25 + 10 * hot),
                        ("researcher", 60),
                    ],
                ),
            ),
            0.4 - 0.3 * hot,
        ),
        "need": _maybe(
            rng,
            _pick(rng, [("confirmed", 10 + 50 * hot), ("exploring", 50), ("none", 10)]),
            0.75 - 0.4 * hot,
        ),
        "timeframe_days": _maybe(
            rng, str(timeframe if hot or rng.random() < 0.3 else 365 + timeframe), 0.5 - 0.35 * hot
        ),
        "contact_me_now": "yes" if rng.random() < 0.02 + 0.08 * hot else _maybe(rng, "no", 0.6),
    }
    if rng.random() < 0.03:
        facts["timeframe_days"] = rng.choice(["soon", "next year", "asap", "-1", "tbd"])
    if rng.random() < 0.02:
        facts["company_size"] = rng.choice(["lots", "50-100", "n/a"])
    return facts


def _activities(
    rng: random.Random, lead: str, warmth: float, now: datetime
) -> list[tuple[str, str, datetime]]:
    kinds = [("page_view", 6), ("content_download", 2), ("email_click", 2), ("webinar_attended", 1)]
    if warmth > 0.5:
        kinds += [
            ("pricing_page_view", 3),
            ("email_reply", 1),
            ("trial_signup", 1),
            ("community_post", 1),
        ]
    count = int(rng.expovariate(1 / (2 + 10 * warmth)))
    out = []
    for _ in range(count):
        age = timedelta(
            days=rng.expovariate(1 / (10 + 40 * (1 - warmth))), minutes=rng.randint(0, 1440)
        )
        out.append((lead, _pick(rng, kinds), now - age))
    return out


NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Katherine": "Kate",
    "Jonathan": "Jon",
    "Margaret": "Maggie",
}
REPEAT_SHARE = 0.08
"""How often an inquiry comes from someone who inquired before (another form, a booth)."""


def _repeat(rng: random.Random, earlier: dict[str, str], i: int) -> dict[str, str]:
    """The same person again, written differently, with some new answers."""
    row = dict(earlier)
    row["id"] = f"inq-{i:06d}"
    style = rng.random()
    if style < 0.5:
        row["email"] = earlier["email"].upper()
    elif style < 0.8:
        row["first_name"] = NICKNAMES.get(earlier["first_name"], earlier["first_name"].lower())
        row["email"] = earlier["email"].replace(".", "_", 1)
    else:
        row["first_name"] = earlier["first_name"].upper()
    row["budget"] = rng.choice(["approved", "Planned", "", earlier.get("budget", "")])
    row["contact_me_now"] = rng.choice(["", "no", "yes"])
    return row


def generate(n: int, seed: int, now: datetime) -> Sample:
    """``n`` inquiries with their activities, the same for the same seed and ``now``."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    acts: list[tuple[str, str, datetime]] = []
    for i in range(1, n + 1):
        warmth = rng.betavariate(1.2, 5)
        if rows and rng.random() < REPEAT_SHARE:
            row = _repeat(rng, rng.choice(rows), i)
        else:
            row = _person(rng, i) | _facts(rng, warmth)
        rows.append(row)
        acts += [
            (row["email"], kind, at) for _, kind, at in _activities(rng, row["id"], warmth, now)
        ]
    inquiries = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]} if rows else None)
    ids = {row["email"]: row["id"] for row in rows}
    activities = pl.DataFrame(
        {
            "id": [ids[a[0]] for a in acts],
            "email": [a[0] for a in acts],
            "type": [a[1] for a in acts],
            "at": [a[2].strftime("%Y-%m-%dT%H:%M:%SZ") for a in acts],
        },
        schema={"id": pl.String, "email": pl.String, "type": pl.String, "at": pl.String},
    )
    return Sample(inquiries, activities)
