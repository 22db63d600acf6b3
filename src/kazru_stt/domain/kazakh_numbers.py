"""Numbers written out in Kazakh words, for scoring as the public Kazakh/Russian
code-switching benchmark does (references spell numbers out; recognisers often write digits).
"""

from __future__ import annotations

import re

_ONES = ["", "бір", "екі", "үш", "төрт", "бес", "алты", "жеті", "сегіз", "тоғыз"]
_TENS = ["", "он", "жиырма", "отыз", "қырық", "елу", "алпыс", "жетпіс", "сексен", "тоқсан"]
_SCALES = [(10**9, "миллиард"), (10**6, "миллион"), (1000, "мың")]
_NUMBER = re.compile(r"\d+")


def _below_thousand(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words += ([_ONES[hundreds]] if hundreds > 1 else []) + ["жүз"]
    tens, ones = divmod(rest, 10)
    words += [w for w in (_TENS[tens], _ONES[ones]) if w]
    return words


def number_words(n: int) -> str:
    """123 -> "жүз жиырма үш", 2024 -> "екі мың жиырма төрт", 0 -> "нөл"."""
    if n == 0:
        return "нөл"
    words: list[str] = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            words += (_below_thousand(count) if count > 1 or scale > 1000 else []) + [name]
    words += _below_thousand(n)
    return " ".join(words)


def spell_numbers(text: str) -> str:
    """Every run of digits replaced by its Kazakh words."""
    return _NUMBER.sub(lambda m: number_words(int(m.group())), text)
