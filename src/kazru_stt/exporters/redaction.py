"""An anonymised copy (`redact=pii`): personal numbers and addresses replaced by a marker of
their kind, as courts publish decisions and call centres keep calls. Found in digits and in
numbers spoken as words (Russian and Kazakh: "восемь семьсот один ..."), each number checked
the way its kind is checked, so a sum of money or a date is left alone:

- IIN/BIN: 12 digits whose last is their check digit (the two-pass mod-11 of the registry);
- card numbers: 13-19 digits passing the Luhn check;
- IBANs: country, check digits and account, passing the mod-97 check;
- phone numbers: +7 or 8 and ten digits, or the ten alone starting 7 or 9 (Kazakh and Russian
  mobiles), or + and 11-15 digits;
- e-mail addresses;
- and terms the user marks (names), whole words, any case, with the case endings Russian and
  Kazakh put on them ("Ахметов" hides "Ахметову", "Ахметовой", "Ахметовқа", "Ахметовтың";
  "Анна" hides "Анну"; "Сергей" hides "Сергея").

Passages changed lose their word times (the words were what was hidden); the rest keep
theirs. Counted per kind (`Redactions.counts`); the text found is never logged."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from kazru_stt.domain.transcript import Transcript
from kazru_stt.i18n import _

IIN, CARD, IBAN, PHONE, EMAIL, NAME = "iin", "card", "iban", "phone", "email", "name"
# What stands where a kind was found, in the reader's language (the catalogues translate).
MARKERS = {
    IIN: _("[IIN]"),
    CARD: _("[card number]"),
    IBAN: _("[IBAN]"),
    PHONE: _("[phone]"),
    EMAIL: _("[e-mail]"),
    NAME: _("[name]"),
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
# A number as people write it: digits with spaces, dashes, dots or brackets between groups.
_DIGITS = re.compile(r"\+?\(?\d[\d\s().\-]*\d|\d")

# Number words (Russian, Kazakh) and the value each adds; ones ≤ 9 end a group of a "teen"
# or a tens word ("двадцать пять" is 25), others stand alone ("семьсот один" is 701).
_UNITS = {
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "одно": 1, "два": 2, "две": 2, "три": 3,
    "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "нөл": 0, "бір": 1, "екі": 2, "үш": 3, "төрт": 4, "бес": 5, "алты": 6, "жеті": 7,
    "сегіз": 8, "тоғыз": 9,
}  # fmt: skip
_TEENS = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18,
    "девятнадцать": 19, "он": 10,
}  # fmt: skip
_TENS = {
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "жиырма": 20, "отыз": 30,
    "қырық": 40, "елу": 50, "алпыс": 60, "жетпіс": 70, "сексен": 80, "тоқсан": 90,
}  # fmt: skip
_HUNDREDS = {
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900, "жүз": 100,
}  # fmt: skip
_NUMBER_WORDS = _UNITS | _TEENS | _TENS | _HUNDREDS
_PLUS = ("плюс",)  # Russian and Kazakh alike
_SEPARATORS = ("-", ",")


def _in_number(token: str) -> bool:
    return token in _NUMBER_WORDS or token.isdigit() or token in _SEPARATORS


_WORD = re.compile(r"[\w+]+|[^\w\s]", re.UNICODE)


def iin_valid(digits: str) -> bool:
    """An IIN or BIN's check digit (the 12th): the weighted sum of the first 11 mod 11,
    weights 1..11; when that is 10, again with weights 3..11, 1, 2; 10 again is no IIN."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    values = [int(c) for c in digits]
    for first in (1, 3):
        weights = [(first + i - 1) % 11 + 1 for i in range(11)]
        check = sum(v * w for v, w in zip(values, weights, strict=False)) % 11
        if check != 10:
            return check == values[11]
    return False


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    iban = text.replace(" ", "")
    if not 15 <= len(iban) <= 34:
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def kind_of_number(written: str) -> str | None:
    """Which personal number `written` (digits with their separators) is, if any."""
    digits = re.sub(r"\D", "", written)
    if iin_valid(digits):
        return IIN
    if 13 <= len(digits) <= 19 and luhn_valid(digits) and not written.startswith("+"):
        return CARD
    # +7/8 and ten digits; or the ten alone, as Kazakh (7xx) and Russian (9xx) mobiles go
    if (len(digits) == 11 and digits[0] in "78") or (len(digits) == 10 and digits[0] in "79"):
        return PHONE
    if written.startswith("+") and 11 <= len(digits) <= 15:
        return PHONE
    return None


def _kind(word: str) -> str:
    if word.isdigit():
        return "digits"
    if word in _HUNDREDS:
        return "hundreds"
    if word in _TENS:
        return "tens"
    return "teens" if word in _TEENS else "unit"


def _spoken_value(words: list[str]) -> str:
    """The digits a run of number words (and digits among them) says, group by group:
    "восемь семьсот один двадцать пять" is 8, 701, 25 → "870125"; Kazakh hundreds are a
    unit times жүз ("жеті жүз бір" is 701)."""
    items: list[tuple[str, int | str]] = []
    for word in words:
        kind = _kind(word)
        if word == "жүз" and items and items[-1][0] == "unit":
            items[-1] = ("hundreds", int(items[-1][1]) * 100)
        else:
            items.append((kind, word if kind == "digits" else _NUMBER_WORDS[word]))
    out: list[str] = []
    group, last = 0, None  # the open group's value and its last part's kind
    for kind, value in items:
        if last is not None and (
            kind in ("digits", "hundreds")
            or (kind in ("tens", "teens") and last != "hundreds")
            # "девяносто ноль" is 9, 0: a zero is said as a digit of its own
            or (kind == "unit" and (last not in ("hundreds", "tens") or value == 0))
        ):
            out.append(str(group))  # the open group ends before this word
            group, last = 0, None
        if kind == "digits":
            out.append(str(value))
            continue
        group += int(value)
        last = kind
        if kind == "unit":  # a ones digit closes its group
            out.append(str(group))
            group, last = 0, None
    if last is not None:
        out.append(str(group))
    return "".join(out)


@dataclass
class Redactions:
    """What to hide beyond the kinds of numbers (`terms`: names the user marks), and what
    was found, per kind (never the text itself)."""

    terms: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


# The endings a name takes in a sentence: Russian cases (and a surname's feminine forms),
# Kazakh cases (after a vowel or a consonant, soft or hard). Only these, so that a short
# name does not hide every longer word that starts with it ("Анна" never hides "Аннаполис").
_RUSSIAN_ENDINGS = (
    "а я у ю ы и е ой ей ою ею ом ем ём ым им ых их ыми ими ам ям ами ями ах ях ов ев ой ую ая"
).split()
_KAZAKH_ENDINGS = (
    "ның нің дың дің тың тің ға ге қа ке на не а е ны ні ды ді ты ті н да де та те нда нде "
    "дан ден тан тен нан нен мен бен пен ға ге"
).split()
# Kazakh stacks suffixes: a plural, then a possessive ("my", "your", "his", "our"), then a
# case ("Айгүлімнің" is "of my Aigul"). Each slot is optional.
_KAZAKH_PLURAL = "лар лер дар дер тар тер".split()
_KAZAKH_POSSESSIVE = ("ым ім м ың ің ң ыңыз іңіз ңыз ңіз ы і сы сі ымыз іміз мыз міз").split()


def _either(endings: list[str]) -> str:
    return "|".join(sorted(set(endings), key=len, reverse=True))


_ENDINGS = (
    rf"(?:{_either(_KAZAKH_PLURAL)})?(?:{_either(_KAZAKH_POSSESSIVE)})?"
    rf"(?:{_either(_RUSSIAN_ENDINGS + _KAZAKH_ENDINGS)})?"
)


def names_pattern(terms: list[str]) -> re.Pattern | None:
    """The names as written, with or without an ending; and the stem a name ending in а, я,
    й or ь builds its cases on, with one ("Анна" → "Анну", "Сергей" → "Сергея")."""
    names = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
    if not names:
        return None
    stems = sorted({n[:-1] for n in names if len(n) > 3 and n[-1].lower() in "аяйь"}, key=len)
    said = [rf"(?:{'|'.join(map(re.escape, names))}){_ENDINGS}"]
    if stems:  # the stem alone is no name: it takes an ending ((?=\w): not an empty one)
        said.append(rf"(?:{'|'.join(map(re.escape, stems[::-1]))})(?=\w){_ENDINGS}")
    return re.compile(rf"(?<!\w)(?:{'|'.join(said)})(?!\w)", re.I)


class Redactor:
    def __init__(self, gettext, found: Redactions):
        self.markers = {kind: gettext(marker) for kind, marker in MARKERS.items()}
        self.names = names_pattern(found.terms)
        self.found = found

    def _mark(self, kind: str) -> str:
        self.found.counts[kind] += 1
        return self.markers[kind]

    def text(self, text: str) -> str:
        text = _EMAIL.sub(lambda m: self._mark(EMAIL), text)
        text = _IBAN.sub(lambda m: self._mark(IBAN) if iban_valid(m[0]) else m[0], text)
        text = _DIGITS.sub(self._digits, text)
        text = self._spoken(text)
        if self.names is not None:
            text = self.names.sub(lambda m: self._mark(NAME), text)
        return text

    def _digits(self, match: re.Match) -> str:
        written = match[0]
        kind = kind_of_number(written.strip(" .-()"))
        return self._mark(kind) if kind else written

    def _spoken(self, text: str) -> str:
        """Runs of number words (and digits among them) read as one number."""
        tokens = list(_WORD.finditer(text))
        out, i, cursor = [], 0, 0
        while i < len(tokens):
            j = i
            while j < len(tokens) and _in_number(tokens[j][0].lower()):
                j += 1
            run = [t[0].lower() for t in tokens[i:j] if t[0] not in _SEPARATORS]
            spoken = [w for w in run if w in _NUMBER_WORDS]
            if len(spoken) >= 3:  # a personal number is said in several groups
                plus = i > 0 and tokens[i - 1][0].lower() in _PLUS
                kind = kind_of_number(("+" if plus else "") + _spoken_value(run))
                if kind and plus:
                    i -= 1
                if kind:
                    while tokens[j - 1][0] in _SEPARATORS:
                        j -= 1
                    out.append(text[cursor : tokens[i].start()])
                    out.append(self._mark(kind))
                    cursor = tokens[j - 1].end()
                    i = j
                    continue
            i = max(j, i + 1)
        out.append(text[cursor:])
        return "".join(out)


def redacted(transcript: Transcript, gettext, found: Redactions) -> Transcript:
    """The transcript with personal data replaced; what was found counted into `found`."""
    redactor = Redactor(gettext, found)
    segments = []
    for seg in transcript.segments:
        text = redactor.text(seg.text)
        segments.append(seg if text == seg.text else replace(seg, text=text, words=[]))
    return replace(transcript, segments=segments)
