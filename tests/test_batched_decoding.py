"""Batched decoding: windows that fit Whisper's 30 s, every region in exactly one of them,
and no speech lost where a window's decode stops early (the rest is decoded again)."""

from __future__ import annotations

import numpy as np
import pytest

from kazru_stt.domain.text_compare import error_counts, normalize
from kazru_stt.engines import whisper
from kazru_stt.engines.whisper import encoder_reuse
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.pipeline.batched_decode import WINDOW_S, _rest_windows
from kazru_stt.pipeline.speech_regions import PackedSpeech, Region, decode_spans

from .conftest import concat_clips, manifest, write_wav


def _russian_clips(eval_dir, n):
    rows = [r for r in manifest() if r["lang"] == "ru" and r["text"]][:n]
    return [eval_dir / r["audio"] for r in rows], [r["text"] for r in rows]


@pytest.fixture(scope="module")
def batched_engine(model_cache):
    return whisper.get_engine(None, model_cache, device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def built_russian(eval_dir, tmp_path_factory):
    paths, texts = _russian_clips(eval_dir, 12)
    audio, spans = concat_clips(paths * 2, gap_s=0.4)
    path = write_wav(tmp_path_factory.mktemp("batched") / "ru.wav", audio)
    return path, spans, texts * 2


def test_windows_fit_whisper_and_cover_every_region_once():
    # 40 regions of 3 s with 0.5 s pauses: one long merged run, and a far one.
    regions = [Region(i * 3.5, i * 3.5 + 3.0) for i in range(40)] + [Region(200.0, 229.9)]
    spans = decode_spans(regions, list(range(len(regions))), 0.0, 240.0, max_s=WINDOW_S)
    assert all(s.end - s.start <= WINDOW_S + 1e-9 for s in spans)
    for r in regions:  # each region inside exactly one stretch
        assert sum(s.start <= r.start and r.end <= s.end for s in spans) == 1
    packed = PackedSpeech(np.zeros(240 * 16000, np.float32), 0.0, spans)
    windows = packed.windows(WINDOW_S)
    assert all(b - a <= WINDOW_S + 1e-9 for a, b in windows)
    stretches = packed.stretches()
    for a, b in stretches:  # every stretch in exactly one window
        assert sum(wa <= a and b <= wb for wa, wb in windows) == 1
    # A region maps into the packed stream and back.
    for r in regions:
        assert packed.to_original(packed.to_packed(r.start + 1.0)) == pytest.approx(r.start + 1.0)


def _clips_heard(transcript, spans, texts):
    heard = 0
    for (start, end), text in zip(spans, texts, strict=True):
        said = set(normalize(text).split())
        inside = {
            normalize(w.text)
            for s in transcript.segments
            for w in s.words
            if w.start < end and w.end > start
        }
        heard += bool(said & inside)
    return heard


def test_batched_loses_no_clip_and_reads_as_well_as_sequential(
    engine, batched_engine, built_russian
):
    path, spans, texts = built_russian
    options = TranscribeOptions(language="ru")
    one_by_one = transcribe_file(path, options, engine)
    batched = transcribe_file(path, options, batched_engine)
    reference = " ".join(texts)

    def wer(t):
        c = error_counts(reference, t.text)
        return c.word_errors / c.ref_words

    assert _clips_heard(batched, spans, texts) == len(spans)
    assert wer(batched) <= wer(one_by_one) + 0.03, (wer(batched), wer(one_by_one), batched.text)
    for seg in batched.segments:
        assert seg.words and all(w.end > w.start for w in seg.words)


def test_a_decode_that_stops_early_has_its_rest_decoded_again(
    batched_engine, built_russian, monkeypatch
):
    """Whisper ending a window's decode early is what makes a plain batched pipeline lose
    words; here every first-round window loses its last segment (as if Whisper had
    stopped before it), and the words come back from the rest's decode."""
    path, spans, texts = built_russian
    real = whisper.WhisperEngine.transcribe_clips
    calls = []

    def stopping_early(self, audio, clips, *args, **kwargs):
        decoded = real(self, audio, clips, *args, **kwargs)
        calls.append(len(clips))
        if len(calls) == 1:
            decoded = [segments[:-1] if len(segments) > 1 else segments for segments in decoded]
        return decoded

    monkeypatch.setattr(whisper.WhisperEngine, "transcribe_clips", stopping_early)
    transcript = transcribe_file(path, TranscribeOptions(language="ru"), batched_engine)
    assert len(calls) >= 2  # a second round decoded the rests
    assert _clips_heard(transcript, spans, texts) == len(spans)


def test_rests_that_say_the_same_phrase_are_each_kept(
    batched_engine, eval_dir, tmp_path, monkeypatch
):
    """The rests of several windows are packed into one window, and the same short phrase
    said at the end of each is no loop: each rest is judged on its own (the 10-minute
    benchmark lost 4 of 78 clips when the packed window as a whole failed the gates)."""
    commands, oleg = (
        eval_dir / "ru" / "vosk_commands.wav",
        eval_dir / "ru" / "tinkoff_privet_oleg.aac",
    )
    audio, spans = concat_clips([commands, oleg] * 3, gap_s=0.4)  # three windows of ~27 s
    path = write_wav(tmp_path / "oleg.wav", audio)
    real = whisper.WhisperEngine.transcribe_clips
    calls = []

    def stopping_early(self, audio, clips, *args, **kwargs):
        decoded = real(self, audio, clips, *args, **kwargs)
        calls.append(len(clips))
        if len(calls) == 1:  # each first-round window stops before its "Привет, Олег"
            decoded = [segments[:-1] if len(segments) > 1 else segments for segments in decoded]
        return decoded

    monkeypatch.setattr(whisper.WhisperEngine, "transcribe_clips", stopping_early)
    transcript = transcribe_file(path, TranscribeOptions(language="ru"), batched_engine)
    # Three windows; their rests packed: in one window, or two when spread over two workers.
    assert calls[0] == 3 and calls[1] == min(2, batched_engine.workers)
    assert _clips_heard(transcript, spans[1::2], ["Привет, Олег!"] * 3) == 3


def test_workers_sharing_a_batch_decode_each_clip_as_one_worker_does(
    model_cache, batched_engine, built_russian
):
    """On a CPU a batch is shared by one single-threaded model worker per core; each clip
    gets its own text back, in order, the same as from one worker decoding them all, and
    progress reaches the caller on its own thread."""
    import threading

    from kazru_stt.media import load_audio

    path, spans, _texts = built_russian
    audio = load_audio(path)
    clips = [(a, b) for a, b in spans[:7]]
    one = whisper.get_engine(None, model_cache, device="cpu", batch_size=4, cpu_threads=1)
    assert one.workers == 1
    if batched_engine.workers == 1:
        pytest.skip("one core: no workers to share a batch")
    seen = []
    shared = batched_engine.transcribe_clips(
        audio, clips, "ru", on_segment=lambda t: seen.append(threading.current_thread())
    )
    alone = one.transcribe_clips(audio, clips, "ru")
    assert [[s.text for s in c] for c in shared] == [[s.text for s in c] for c in alone]
    assert all(c for c in shared)
    assert seen and set(seen) == {threading.current_thread()}


def test_a_rest_round_is_spread_over_the_workers():
    # Rests of 4-6 s from several windows: one 30 s window would keep one worker busy and
    # the other idle while the block waits for it.
    rests = [Region(t, t + d) for t, d in ((10, 5), (50, 4), (90, 6), (130, 5))]
    stream = PackedSpeech(np.zeros(200 * 16000, np.float32), 0.0, rests)
    assert len(stream.windows(WINDOW_S)) == 1
    spread = _rest_windows(stream, workers=2)
    assert len(spread) == 2 and all(b - a <= WINDOW_S for a, b in spread)
    for a, b in stream.stretches():  # every rest in exactly one window
        assert sum(wa <= a and b <= wb for wa, wb in spread) == 1
    assert _rest_windows(stream, workers=1) == stream.windows(WINDOW_S)
    one = PackedSpeech(np.zeros(200 * 16000, np.float32), 0.0, rests[:1])
    assert _rest_windows(one, workers=2) == one.windows(WINDOW_S)


def test_a_lone_window_is_decoded_with_every_thread(batched_engine, eval_dir):
    """With single-threaded workers sharing batches, one window alone (a short recording,
    a rest round) goes to the model copy with one worker and all the threads, and reads
    the same."""
    from kazru_stt.media import load_audio

    if batched_engine.workers == 1:
        pytest.skip("one core: no workers")
    assert batched_engine.solo is not batched_engine.model
    audio = load_audio(eval_dir / "ru" / "riva_sample.wav")
    encoded = []

    class Watched:
        def __init__(self, model):
            self._model = model

        def __getattr__(self, name):
            if name == "encode":
                encoded.append(name)
            return getattr(self._model, name)

    solo, batched_engine.solo = batched_engine.solo, Watched(batched_engine.solo)
    try:
        alone = batched_engine.transcribe_clips(audio, [(0.0, audio.size / 16000)], "ru")
    finally:
        batched_engine.solo = solo
    assert encoded and alone[0]
    shared = batched_engine.transcribe_clips(audio, [(0.0, audio.size / 16000)] * 2, "ru")
    assert [s.text for s in shared[0]] == [s.text for s in alone[0]]


def test_speech_after_a_pause_at_a_windows_end_is_kept(engine, eval_dir, tmp_path):
    """Found by the voices test: half of one recording, a 0.8 s pause, another sentence.
    Whisper's own seek loop ended the window after the first part and dropped the second
    (one window of 20 s); windows cut at pauses with their rests decoded again keep it."""
    from kazru_stt.media import SAMPLE_RATE, load_audio

    voice = load_audio(eval_dir / "ru" / "vosk_commands.wav")
    riva = load_audio(eval_dir / "ru" / "riva_sample.wav")
    pause = np.zeros(int(0.8 * SAMPLE_RATE), np.float32)
    path = write_wav(tmp_path / "two.wav", np.concatenate([voice[: voice.size // 2], pause, riva]))
    text = normalize(transcribe_file(path, TranscribeOptions(language="ru"), engine).text)
    assert "включи свет" in text
    assert {"положения", "содержит"} <= set(text.split()), text


def test_a_window_decoded_again_reuses_its_encoding_and_reads_its_language(engine, eval_dir):
    """Kazakh, then Russian, in the same two windows: the second decode skips the encoder
    and writes what it writes without reuse; the detector read from the kept encoding
    agrees with faster-whisper's detector on the same audio (a 30 s window)."""
    from kazru_stt.media import load_audio

    ru = load_audio(eval_dir / "ru" / "tinkoff_sample_1.mp3")[: 12 * 16000]
    kk = load_audio(eval_dir / "kk" / "kscd_example_1.wav")
    audio = np.concatenate([ru, np.zeros(8000, np.float32), kk])
    clips = [(0.0, ru.size / 16000), (ru.size / 16000 + 0.5, audio.size / 16000)]
    reuse = whisper.EncoderReuse()
    engine.transcribe_clips(audio, clips, "kk", reuse=reuse, detect=True)
    assert reuse.reused == 0 and len(reuse.outputs) == 2
    detected = reuse.detected
    assert [max(d, key=d.get) for d in detected][0] == "ru"
    for (a, b), probs in zip(clips, detected, strict=True):
        _lang, _p, own = engine.model.detect_language(audio[int(a * 16000) : int(b * 16000)])
        own = dict(own)
        assert max(own, key=own.get) == max(probs, key=probs.get)
        assert abs(own["ru"] - probs["ru"]) < 0.05
    again = engine.transcribe_clips(audio, clips, "ru", reuse=reuse)
    assert reuse.reused == 2
    plain = engine.transcribe_clips(audio, clips, "ru")
    assert [[s.text for s in w] for w in again] == [[s.text for s in w] for w in plain]
    assert again[0] and again[0][0].words


def _texts(decoded):
    return ["".join(s.text for s in window) for window in decoded]


def test_a_window_the_detector_does_not_give_the_language_goes_at_beam_1(batched_engine, eval_dir):
    """Russian and Kazakh windows in one batch, decoded in Russian as evidence: the Kazakh
    window is split off and decoded at beam 1, the Russian one at the full beam, each
    writing what that beam writes alone."""
    from kazru_stt.media import load_audio

    ru = load_audio(eval_dir / "ru" / "tinkoff_sample_1.mp3")
    kk = load_audio(eval_dir / "kk" / "kscd_example_1.wav")
    audio = np.concatenate([ru, np.zeros(8000, np.float32), kk])
    clips = [(0.0, ru.size / 16000), (ru.size / 16000 + 0.5, audio.size / 16000)]
    reuse = whisper.EncoderReuse(evidence_below=0.5)
    mixed = batched_engine.transcribe_clips(audio, clips, "ru", reuse=reuse, detect=True)
    assert reuse.greedy == [False, True]
    full = batched_engine.transcribe_clips(audio, clips, "ru")
    greedy = batched_engine.transcribe_clips(audio, clips, "ru", beam_size=1)
    assert _texts(full)[1] != _texts(greedy)[1]  # else this test could not tell them apart
    assert _texts(mixed) == [_texts(full)[0], _texts(greedy)[1]]


def test_russian_decoded_as_evidence_only_is_decoded_again_in_full(
    engine, eval_dir, tmp_path, monkeypatch
):
    """Every window of a Russian recording taken as evidence only (beam 1): in automatic
    mode it still comes out as the language given writes it, at the full beam."""
    from kazru_stt.pipeline import language as lid

    paths, _texts_ = _russian_clips(eval_dir, 3)
    audio, _spans = concat_clips(paths, gap_s=0.6)
    path = write_wav(tmp_path / "ru.wav", audio)
    given = transcribe_file(path, TranscribeOptions(language="ru"), engine=engine)
    flags = []  # per window generated in the first pass: at beam 1
    generate = encoder_reuse.BeamPerClip.generate

    def spy(self, encoder_output, prompts, **options):
        flags.extend(self._greedy)
        return generate(self, encoder_output, prompts, **options)

    monkeypatch.setattr(encoder_reuse.BeamPerClip, "generate", spy)
    monkeypatch.setattr(lid, "EVIDENCE_ONLY_BELOW", 1.01)
    auto = transcribe_file(path, TranscribeOptions(language="auto"), engine=engine)
    assert flags and all(flags)
    assert {s.language for s in auto.segments} == {"ru"}
    assert auto.text == given.text


def test_the_detector_reads_each_passage_cut_to_its_length(batched_engine, eval_dir, monkeypatch):
    """Passages that need Whisper's detector of their own are read together, shared among
    the workers; each is encoded cut to its length plus 1 s (at least 10 s, at most 30 s),
    not padded to a whole window, and gets what the detector gives those frames alone."""
    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim

    from kazru_stt.media import load_audio

    def clip(*names):
        return np.concatenate([load_audio(eval_dir / n) for n in names])

    clips = [
        clip("ru/golos_001ce26c.wav"),  # 4.0 s
        clip("kk/kscd_example_1.wav"),  # 5.0 s
        clip("ru/riva_sample.wav", "ru/tinkoff_sample_1.mp3"),  # 12.5 s
        clip(*["ru/riva_sample.wav"] * 5),  # 38 s: its first 30 s
    ]
    seen = []
    encode = WhisperModel.encode

    def spy(self, features):
        seen.append(features.shape[-1])
        return encode(self, features)

    monkeypatch.setattr(WhisperModel, "encode", spy)
    together = batched_engine.detect_languages(clips)
    assert sorted(seen) == [1000, 1000, 1348, 3000]
    monkeypatch.undo()
    solo = batched_engine.solo
    for audio, probs in zip(clips, together, strict=True):
        features = solo.feature_extractor(audio[: 30 * 16000])[..., :3000]
        frames = whisper.detector_frames(features.shape[-1])
        cut = np.ascontiguousarray(pad_or_trim(features, frames)[None])
        output = solo.model.encode(ctranslate2.StorageView.from_array(cut))
        alone = {t[2:-2]: p for t, p in solo.model.detect_language(output)[0]}
        assert max(probs, key=probs.get) == max(alone, key=alone.get)
        assert all(abs(probs[k] - alone[k]) < 0.02 for k in ("ru", "kk", "en"))
    assert batched_engine.detect_languages([]) == []


def test_a_batch_is_encoded_one_window_at_a_time_on_a_cpu(batched_engine, eval_dir):
    """On a CPU the encoder takes a batch's windows one by one (faster there: the
    activations of several windows overflow the caches); the outputs are those of the
    batch encoded at once."""
    from faster_whisper.audio import pad_or_trim

    from kazru_stt.media import load_audio

    names = ["ru/golos_001ce26c.wav", "kk/kscd_example_1.wav", "ru/riva_sample.wav"]
    clips = [load_audio(eval_dir / n) for n in names]
    extract = batched_engine.model.feature_extractor
    features = np.stack([pad_or_trim(extract(c)[..., : extract.nb_max_frames]) for c in clips])
    shapes: list[tuple] = []

    class Watched:
        def __init__(self, model):
            self.model = model.model

        def encode(self, batch):
            shapes.append(tuple(batch.shape))
            return batched_engine.model.encode(batch)

    one_by_one = np.array(encoder_reuse.encode(Watched(batched_engine.model), features))
    assert shapes == [(1, *features.shape[1:])] * 3
    at_once = np.array(batched_engine.model.encode(features))
    assert one_by_one.shape == at_once.shape
    assert np.allclose(one_by_one, at_once, atol=1e-4)


def test_a_loaded_engine_has_turned_mkls_buffer_pool_off(engine):
    # CTranslate2 allocates through MKL on Intel CPUs; its pool kept freed buffers per thread. MKL
    # reads the switch once, at its first use: set after that, it does nothing.
    from kazru_stt.allocator import mkl_buffer_pool_off

    if mkl_buffer_pool_off() is None:
        pytest.skip("CTranslate2 has no MKL here (not x86)")
    assert mkl_buffer_pool_off() is True  # MKL's own answer, not our variable
