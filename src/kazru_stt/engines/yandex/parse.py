"""Parse getRecognition's stream of JSON objects into transcript segments.

The body is JSON objects one after another (newline-delimited, each possibly
pretty-printed), each {"result": StreamingResponse}. Text comes from `final` events, or
from `finalRefinement.normalizedText` (punctuated, numbers as digits) when one exists for
the same channel and finalIndex. int64 fields arrive as strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.transcript import Word
from kazru_stt.engines.yandex.errors import YandexError
from kazru_stt.engines.yandex.languages import FROM_YANDEX


def iter_json_objects(body: str):
    decoder = json.JSONDecoder()
    pos, n = 0, len(body)
    while pos < n:
        while pos < n and body[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return
        try:
            obj, pos = decoder.raw_decode(body, pos)
        except json.JSONDecodeError as exc:
            raise YandexError(
                f"malformed recognition result: {exc.msg} at {exc.pos}",
                code=ErrorCode.ENGINE_BAD_RESPONSE,
            ) from exc
        yield obj


@dataclass
class Utterance:
    channel: str
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    language: str | None = None


def _ms(value) -> float:
    return int(value) / 1000.0


def _utterance(channel: str, alt: dict) -> Utterance:
    words = [
        Word(
            _ms(w["startTimeMs"]), _ms(w["endTimeMs"]), w["text"], float(w.get("confidence") or 1.0)
        )
        for w in alt.get("words") or []
    ]
    langs = sorted(alt.get("languages") or [], key=lambda x: -float(x.get("probability", 0)))
    language = (
        FROM_YANDEX.get(langs[0]["languageCode"], langs[0]["languageCode"][:2]) if langs else None
    )
    return Utterance(
        channel=channel,
        start=_ms(alt.get("startTimeMs", words[0].start * 1000 if words else 0)),
        end=_ms(alt.get("endTimeMs", words[-1].end * 1000 if words else 0)),
        text=alt.get("text", "").strip(),
        words=words,
        language=language,
    )


def parse_results(body: str) -> list[Utterance]:
    finals: dict[tuple[str, str], Utterance] = {}
    refined: dict[tuple[str, str], Utterance] = {}
    for obj in iter_json_objects(body):
        result = obj.get("result", obj)
        if not isinstance(result, dict):
            raise YandexError("malformed recognition result", code=ErrorCode.ENGINE_BAD_RESPONSE)
        channel = str(result.get("channelTag", "0"))
        index = str((result.get("audioCursors") or {}).get("finalIndex", len(finals)))
        if "final" in result:
            alts = result["final"].get("alternatives") or []
            channel = str(result["final"].get("channelTag", channel))
            if alts:
                finals[(channel, index)] = _utterance(channel, alts[0])
        elif "finalRefinement" in result:
            ref = result["finalRefinement"]
            index = str(ref.get("finalIndex", index))
            alts = (ref.get("normalizedText") or {}).get("alternatives") or []
            if alts:
                refined[(channel, index)] = _utterance(channel, alts[0])
    out = []
    for key, utt in finals.items():
        better = refined.get(key)
        if better and better.text:
            # Normalized text, but keep the final's word timings when the refinement has none.
            if not better.words:
                better.words = utt.words
            better.language = better.language or utt.language
            utt = better
        out.append(utt)
    out.sort(key=lambda u: (u.start, u.channel))
    return out
