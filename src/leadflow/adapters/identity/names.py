"""People's and companies' names: a display form for people to read, a key for matching.

The display form respects what was typed: it is trimmed and its inner spaces
collapsed, and only a name typed entirely in capitals or entirely in lower
case is re-capitalised ("o'neil" -> "O'Neil", "VAN DER BERG" -> "van der
Berg"), because a name typed in mixed case ("McDonald", "DeVito") is more
likely right than any rule.

The key is for matching, never for display: case and accents are folded
away ("Zoë" and "ZOE" share "zoe"), punctuation is dropped, a common
nickname is mapped to its formal name ("Bob" -> "robert"), and a company
loses its legal form ("ACME, Inc." and "Acme Incorporated" share "acme").

A full name given as one value is split into first and last name the same
way everywhere (:func:`split_full_name`): "Smith, John" is John Smith, and a
suffix ("Jr.", "PhD") is not a last name.

A company value that says there is no company ("N/A", "-", "Self-employed",
see :data:`PLACEHOLDER_COMPANIES`) is no company at all: no display form and
no key, so it makes no account and joins nobody by name.

Everything here is pure Python over one value, so the vectorised path calls
these same functions once per distinct value: both paths agree by
construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from leadflow.domain.values import STRIP_CHARS, clean

# Runs of the characters ``clean`` trims become one space inside a name.
_INNER_SPACE = re.compile("[" + re.escape(STRIP_CHARS) + "]+")

# Letters that Unicode does not decompose into a base letter and a mark.
_FOLD_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "œ": "oe",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
    }
)

# Dropped without a trace in keys, so "O'Neil" is "oneil" and "S.A." is "sa".
_JOINERS = frozenset("'’‘`´.")

# Lower-case words in a surname ("van der Berg", "de la Cruz") when re-capitalised.
PARTICLES = frozenset(
    {
        "af", "al", "av", "bin", "binti", "da", "das", "de", "del", "della", "den",
        "der", "des", "di", "do", "dos", "du", "el", "la", "le", "ten", "ter", "van",
        "von", "y", "zu",
    }
)  # fmt: skip

# Nickname -> formal name, for the first word of a first name. Only nicknames
# that point to one formal name: "Alex", "Chris", "Sam", "Pat", "Jamie" or
# "Jack" could be either of two people, and a wrong merge costs more than a
# missed one, so they map to themselves. A few spelling variants are folded too.
NICKNAMES: dict[str, str] = {
    "abbie": "abigail", "abby": "abigail",
    "alf": "alfred", "alfie": "alfred",
    "andy": "andrew", "drew": "andrew",
    "barb": "barbara", "barbie": "barbara",
    "becca": "rebecca", "becky": "rebecca",
    "ben": "benjamin", "benny": "benjamin",
    "beth": "elizabeth", "betsy": "elizabeth", "betty": "elizabeth", "libby": "elizabeth",
    "liz": "elizabeth", "lizzie": "elizabeth", "lizzy": "elizabeth",
    "bill": "william", "billy": "william", "will": "william", "willie": "william",
    "willy": "william",
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "robby": "robert",
    "cathy": "catherine", "kathy": "katherine", "kate": "katherine", "katie": "katherine",
    "charlie": "charles", "chas": "charles", "chuck": "charles",
    "cindy": "cynthia",
    "dan": "daniel", "danny": "daniel",
    "dave": "david", "davey": "david",
    "deb": "deborah", "debbie": "deborah", "debra": "deborah",
    "dick": "richard", "rich": "richard", "richie": "richard", "rick": "richard",
    "ricky": "richard",
    "don": "donald", "donny": "donald",
    "dot": "dorothy", "dottie": "dorothy",
    "doug": "douglas",
    "ed": "edward", "eddie": "edward", "ned": "edward",
    "fred": "frederick", "freddie": "frederick", "freddy": "frederick",
    "gabe": "gabriel",
    "gene": "eugene",
    "ginny": "virginia",
    "greg": "gregory",
    "gwen": "gwendolyn",
    "hank": "henry",
    "jake": "jacob",
    "jeff": "jeffrey",
    "jen": "jennifer", "jenny": "jennifer",
    "jim": "james", "jimmy": "james",
    "joe": "joseph", "joey": "joseph",
    "johnny": "john",
    "josh": "joshua",
    "josie": "josephine",
    "judy": "judith",
    "ken": "kenneth", "kenny": "kenneth",
    "larry": "lawrence",
    "maggie": "margaret", "margie": "margaret", "meg": "margaret", "peggy": "margaret",
    "mandy": "amanda",
    "matt": "matthew", "matty": "matthew",
    "mick": "michael", "mickey": "michael", "mike": "michael", "mikey": "michael",
    "mitch": "mitchell",
    "nick": "nicholas",
    "paddy": "patrick",
    "pam": "pamela",
    "patsy": "patricia", "patty": "patricia", "tricia": "patricia", "trish": "patricia",
    "penny": "penelope",
    "pete": "peter",
    "phil": "philip",
    "ray": "raymond",
    "ron": "ronald", "ronnie": "ronald",
    "russ": "russell",
    "stan": "stanley",
    "steph": "stephanie",
    "steve": "steven", "stevie": "steven", "stephen": "steven",
    "sue": "susan", "susie": "susan", "suzy": "susan",
    "terri": "theresa", "tess": "theresa", "teresa": "theresa",
    "theo": "theodore",
    "tim": "timothy", "timmy": "timothy",
    "tom": "thomas", "tommy": "thomas",
    "tony": "anthony",
    "tori": "victoria", "vicki": "victoria", "vicky": "victoria",
    "vince": "vincent", "vinny": "vincent",
    "walt": "walter", "wally": "walter",
    "zach": "zachary", "zack": "zachary",
}  # fmt: skip

# Legal forms as people type them. Each is tokenised like a company name, so
# "S.A." becomes "sa" and "S. A." becomes "s a", and removed from the end of a
# name, longest first, repeatedly ("Müller GmbH & Co. KG" -> "muller").
LEGAL_FORMS = (
    "Inc", "Incorporated", "Ltd", "Limited", "LLC", "L.L.C.", "L. L. C.", "LLP", "LP",
    "PLC", "Corp", "Corporation", "Co", "Company", "& Co", "GmbH", "GmbH & Co. KG", "AG",
    "A. G.", "KG", "UG", "OHG", "e.V.", "S.A.", "S. A.", "SA", "S.A.S.", "S. A. S.", "SAS",
    "SASU", "SARL", "S.A.R.L.", "S.L.", "S. L.", "S.R.L.", "S. R. L.", "SRL", "S.p.A.",
    "S. p. A.", "SpA", "S.A. de C.V.", "de C.V.", "Ltda", "B.V.", "B. V.", "BV", "N.V.",
    "N. V.", "NV", "Oy", "Oyj", "AB", "AS", "A/S", "ASA", "ApS", "Pty", "Pty Ltd",
    "Pte", "Pte Ltd", "Sdn Bhd", "Bhd", "K.K.", "KK", "Kft", "Zrt", "s.r.o.", "d.o.o.",
    "Sp. z o.o.", "OOO", "PLLC", "P.L.L.C.", "PC", "P.C.", "SE", "e.K.", "Ltée", "Limitée",
)  # fmt: skip

# What people type in a company field when they have no company to give: "not
# given" in its spellings, no employer, a test. Compared on the folded letters and
# digits alone, so case, punctuation and spaces do not matter ("N/A", "n.a." and
# "NA" are one; "Self-employed" and "self employed" are one). A value with no letter
# or digit at all ("-", "--", "?", "...") is a placeholder too. Only a whole value
# is one: "Freelance Ltd" and "Home Depot" are companies. The list is in
# docs/cli.md ("How names and companies are read"); keep the two alike.
PLACEHOLDER_COMPANIES = (
    "N/A", "NA", "n.a.", "none", "no", "null", "nil", "nan", "unknown",
    "not applicable", "not available", "not given", "not provided", "no company", "tbd",
    "self", "self employed", "freelance", "freelancer", "individual", "private",
    "personal", "student", "retired", "unemployed", "home", "homemaker",
    "sole trader", "sole proprietor", "test", "testing", "asdf", "company", "company name",
)  # fmt: skip


def collapse(raw: object) -> str | None:
    """Trimmed text with inner runs of spaces, tabs and line breaks made one space."""
    text = clean(raw)
    return None if text is None else _INNER_SPACE.sub(" ", text)


def display_name(raw: object) -> str | None:
    """A person's name as it should be shown (see the module docstring)."""
    text = collapse(raw)
    if text is None or not (text.isupper() or text.islower()):
        return text
    words = text.lower().split(" ")
    last = len(words) - 1
    return " ".join(
        word if i < last and word in PARTICLES else _capitalise_word(word)
        for i, word in enumerate(words)
    )


def _capitalise_word(word: str) -> str:
    """Capitalise each part of a word split at hyphens and apostrophes ("o'neil-smith")."""
    parts = re.split(r"([\-'’])", word)
    return "".join(_capitalise_part(p) for p in parts)


def _capitalise_part(part: str) -> str:
    if len(part) > 2 and part.startswith("mc") and part[2].isalpha():
        return "Mc" + part[2].upper() + part[3:]
    return part[:1].upper() + part[1:]


def fold(text: str) -> str:
    """Case and accents folded away: "Zoë Ångström" -> "zoe angstrom".

    Case folding comes first because it can add marks ("İ" -> "i" + dot above),
    which the decomposition then drops. Letters with no decomposition (ß, ø, ł)
    are spelled out. Scripts without an ASCII spelling are kept as they are.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Folded words: joiners (apostrophes, dots) dropped, other punctuation splits words."""
    out: list[str] = []
    for c in fold(text).replace("&", " and "):
        if c in _JOINERS:
            continue
        out.append(c if c.isalnum() else " ")
    return "".join(out).split()


def first_name_key(raw: object) -> str | None:
    """The first-name half of :func:`name_key`, with its first word's nickname mapped."""
    text = clean(raw)
    words = tokens(text) if text is not None else []
    if not words:
        return None
    words[0] = NICKNAMES.get(words[0], words[0])
    return " ".join(words)


def last_name_key(raw: object) -> str | None:
    """The last-name half of :func:`name_key`."""
    text = clean(raw)
    words = tokens(text) if text is not None else []
    return " ".join(words) or None


# Generational and professional suffixes, as written after a name ("John Smith Jr.",
# "Ann Lee, PhD"). Compared as written, in any case, a final dot or comma aside (and
# "Ph.D.", "M.D." with their dots: :data:`_SUFFIXES`), so the initials "J.R." are no
# "Jr". Not "V" nor "I", which are as often an initial, nor "Do", a surname.
NAME_SUFFIXES = (
    "Jr", "Jnr", "Sr", "Snr", "II", "III", "IV", "PhD", "MD", "DDS", "DMD", "DVM", "Esq",
    "MBA", "CPA", "CFA", "JD", "LLM", "RN", "MPH",
)  # fmt: skip


# Titles, as written before a name ("Dr. Ann Lee", "Lee, Dr. Ann"): a salutation, not a
# first name. Compared as suffixes are: as written, in any case, a final dot aside.
NAME_TITLES = (
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Sir", "Dame", "Rev",
    "Herr", "Frau", "Mme", "Mlle",
)  # fmt: skip


def split_full_name(full: object) -> tuple[str | None, str | None]:
    """A full name, given as one value, as (first name, last name).

    "John Smith" -> ("John", "Smith"); "Mary Ann van Berg" -> ("Mary Ann van", "Berg").
    With one comma it is "Last, First", as lists sorted by surname write it: "Smith, John
    A." -> ("John A.", "Smith"). Suffixes at the end ("Jr.", "III", "PhD", after a comma
    or not) are dropped: they are not the last name; so are titles before the first name
    ("Dr.", "Mrs"). A single word is a last name.
    """
    text = collapse(full)
    if text is None:
        return None, None
    parts = [p for p in (p.strip() for p in text.split(",")) if p] or [text]
    while len(parts) > 1 and all(_is_suffix(w) for w in parts[-1].split(" ")):
        parts.pop()
    if len(parts) == 2:
        first = _without_titles(_without_suffixes(parts[1]).split(" "), keep=0)
        return " ".join(first) or None, _without_suffixes(parts[0])
    words = _without_titles(_without_suffixes(", ".join(parts), keep=2).split(" "), keep=1)
    return " ".join(words[:-1]) or None, words[-1]


_SUFFIXES = frozenset(
    [s.lower() for s in NAME_SUFFIXES] + ["ph.d", "m.d", "d.d.s", "d.m.d", "d.v.m"]
)
"""The suffixes as they are written, a final dot or comma aside: "J.R." is initials."""


def _is_suffix(word: str) -> bool:
    return word.rstrip(".,").lower() in _SUFFIXES


_TITLES = frozenset(t.lower() for t in NAME_TITLES)


def _without_titles(words: list[str], keep: int) -> list[str]:
    """``words`` without the titles that begin them, but never fewer than ``keep`` words:
    "Dr. Smith" is Smith; "Lee, Dr." is Lee."""
    start = 0
    while len(words) - start > keep and words[start].rstrip(".").lower() in _TITLES:
        start += 1
    return words[start:]


def _without_suffixes(text: str, keep: int = 1) -> str:
    """``text`` without the suffixes that end it, but never fewer than ``keep`` words:
    "Henry IV" is a first and a last name."""
    words = text.split(" ")
    while len(words) > keep and _is_suffix(words[-1]):
        words.pop()
    return " ".join(words)


def join_name_key(first: str | None, last: str | None) -> str | None:
    """Put the two halves together: "first last", or whichever half is known."""
    if first is None or last is None:
        return first if last is None else last
    return f"{first} {last}"


def name_key(first: object, last: object) -> str | None:
    """The matching key of a person's name: "Bob O'Neil" and "ROBERT ONEIL" share "robert oneil"."""
    return join_name_key(first_name_key(first), last_name_key(last))


FORMER_NAME = "name:"


def former_name_block(name_key: str) -> str:
    """The block of the people once called ``name_key``: a person's name follows their
    latest inquiry, and one who gave another name before is still that person."""
    return FORMER_NAME + name_key


def sharing_a_word(
    members: Iterable[tuple[int, str | None]], words: Iterable[str]
) -> tuple[list[int], list[str | None]]:
    """The members (person, name key) whose name key has one of ``words``, in their order,
    as two lists in step: the candidates for a fuzzy name match."""
    wanted = set(words)
    kept = [(p, n) for p, n in members if n and not wanted.isdisjoint(n.split())]
    return [p for p, _ in kept], [n for _, n in kept]


def _legal_form_tokens() -> tuple[tuple[str, ...], ...]:
    forms = {tuple(tokens(f)) for f in LEGAL_FORMS}
    return tuple(sorted(forms, key=lambda f: (-len(f), f)))


_LEGAL = _legal_form_tokens()


def _by_last_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The legal forms by their last word, each list in ``_LEGAL``'s order."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for form in _LEGAL:
        found.setdefault(form[-1], []).append(form)
    return {word: tuple(forms) for word, forms in found.items()}


_LEGAL_BY_LAST = _by_last_word()


def _squeezed(text: str) -> str:
    """A value's folded letters and digits alone: "Self-Employed" -> "selfemployed"."""
    return "".join(tokens(text))


_PLACEHOLDERS = frozenset(_squeezed(p) for p in PLACEHOLDER_COMPANIES)


def is_placeholder_company(raw: object) -> bool:
    """Whether a company value says there is none: blank, without a letter or digit,
    or one of :data:`PLACEHOLDER_COMPANIES` (case, punctuation and spaces aside)."""
    text = clean(raw)
    if text is None:
        return True
    squeezed = _squeezed(text)
    return not squeezed or squeezed in _PLACEHOLDERS


def company_key(raw: object) -> str | None:
    """The matching key of a company name, without its legal form.

    "ACME, Inc.", "Acme Incorporated" and "acme" share "acme"; a leading
    "The" goes too. A name that is nothing but a legal form ("AB") keeps its
    last word, so a key is never empty for a name that was given. A placeholder
    ("N/A", "Self-employed") has none: it would join everyone who typed it.
    """
    if is_placeholder_company(raw):
        return None
    text = clean(raw)
    words = tokens(text) if text is not None else []
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    stripped = True
    while stripped and len(words) > 1:
        stripped = False
        for form in _LEGAL_BY_LAST.get(words[-1], ()):  # the first of _LEGAL that ends it
            n = len(form)
            if len(words) > n and tuple(words[-n:]) == form:
                words = words[:-n]
                stripped = True
                break
    return " ".join(words) or None


def company_display(raw: object) -> str | None:
    """A company name as typed, trimmed and with inner spaces collapsed; None for a
    placeholder ("N/A", "Self-employed"), which names no company."""
    return None if is_placeholder_company(raw) else collapse(raw)
