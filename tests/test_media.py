"""Media decoding on real files, re-encoded copies, and bad input."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from kazru_stt.domain.errors import MediaError
from kazru_stt.media import iter_audio, load_audio, probe
from tests.conftest import manifest, write_wav


@pytest.mark.parametrize("row", manifest(), ids=lambda r: r["id"])
def test_every_eval_clip_decodes_to_16k_mono(eval_dir, row):
    audio = load_audio(eval_dir / row["audio"])
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / 16000 - row["duration_s"]) < 0.05
    assert 0 < np.abs(audio).max() < 1.5  # resampling may overshoot full scale a little


def _reencode(
    src: Path, dst: Path, fmt: str, codec: str, rate: int, video: str | None = None
) -> Path:
    audio = load_audio(src)
    with av.open(str(dst), "w", format=fmt) as out:
        if video:
            v = out.add_stream(video, rate=10)
            v.width, v.height, v.pix_fmt = 64, 64, "yuv420p"
        stream = out.add_stream(codec, rate=rate, layout="mono")
        stream.bit_rate = 64000
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=rate
        )
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = 16000
        frames = resampler.resample(frame) + resampler.resample(None)
        if video:
            img = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for i in range(int(audio.size / 16000 * 10)):
                img.pts = i
                for packet in v.encode(img):
                    out.mux(packet)
            for packet in v.encode(None):
                out.mux(packet)
        frame_size = stream.codec_context.frame_size or 1024
        for fr in frames:
            arr = fr.to_ndarray()
            for start in range(0, arr.shape[-1], frame_size):
                part = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(arr[..., start : start + frame_size]),
                    format=fr.format.name,
                    layout="mono",
                )
                part.sample_rate = rate
                for packet in stream.encode(part):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


@pytest.mark.parametrize(
    "fmt,codec,rate,ext,video",
    [
        ("ogg", "libopus", 48000, "ogg", None),
        ("webm", "libopus", 48000, "webm", "libvpx"),
        ("mp4", "aac", 44100, "m4a", None),
        ("mp4", "aac", 44100, "mp4", "libx264"),
        ("matroska", "libopus", 48000, "mkv", "libvpx"),
        ("mp3", "libmp3lame", 44100, "mp3", None),
        ("asf", "wmav2", 22050, "wma", None),
    ],
)
def test_reencoded_containers_and_video_decode(eval_dir, tmp_path, fmt, codec, rate, ext, video):
    src = eval_dir / "ru" / "golos_001ce26c.wav"
    dst = _reencode(src, tmp_path / f"clip.{ext}", fmt, codec, rate, video)
    audio = load_audio(dst)
    assert abs(audio.size / 16000 - 4.0) < 0.15
    assert probe(dst).duration == pytest.approx(4.0, abs=0.2)


def test_amr_from_a_phone_decodes():
    """AMR-NB, as phones and call recorders write it. The file was encoded once from the same
    clip (PyAV 18.1.0's libopencore_amrnb): PyAV's wheels from 18.1.1 on can still decode
    AMR but no longer encode it, so it cannot be made here."""
    path = Path(__file__).parent / "data" / "ru" / "golos_001ce26c.amr"  # (not in the eval set)
    audio = load_audio(path)
    assert abs(audio.size / 16000 - 4.0) < 0.15
    assert probe(path).duration == pytest.approx(4.0, abs=0.2)


def test_streaming_blocks_join_to_the_whole(eval_dir):
    path = eval_dir / "ru" / "vosk_commands.wav"  # 24 s: two whole blocks and a part
    blocks = list(iter_audio(path, block_seconds=10.0))
    assert len(blocks) == 3
    assert all(b.size == 160000 for b in blocks[:-1])
    assert np.array_equal(np.concatenate(blocks), load_audio(path))


def test_stereo_decode_keeps_channels(tmp_path):
    t = np.arange(16000) / 16000
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    path = write_wav(tmp_path / "st.wav", np.stack([left, right]))
    both = load_audio(path, channels=2)
    assert both.shape == (2, 16000)
    assert np.abs(both[0]).max() > 0.4 and np.abs(both[1]).max() < 1e-3


def _truncated_mp3(eval_dir, tmp_path) -> Path:
    data = (eval_dir / "ru" / "tinkoff_sample_1.mp3").read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(data[: len(data) // 2])
    return path


def _video_only(tmp_path) -> Path:
    path = tmp_path / "silent_film.mp4"
    with av.open(str(path), "w") as out:
        v = out.add_stream("mpeg4", rate=10)
        v.width, v.height, v.pix_fmt = 32, 32, "yuv420p"
        img = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
        for i in range(10):
            img.pts = i
            for packet in v.encode(img):
                out.mux(packet)
        for packet in v.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    "make,code",
    [
        (
            lambda d, t: (t / "notes.txt").write_text("не аудио\n" * 100) and t / "notes.txt",
            "unsupported_media",
        ),
        (lambda d, t: (t / "zero.wav").write_bytes(b"") or t / "zero.wav", "empty_audio"),
        (lambda d, t: _truncated_mp3(d, t), "corrupt_media"),
        (lambda d, t: Path("/bin/ls"), "unsupported_media"),
        (lambda d, t: _video_only(t), "no_audio_stream"),
        (
            lambda d, t: (
                (t / "rand.mp3").write_bytes(np.random.default_rng(1).bytes(50000))
                and t / "rand.mp3"
            ),
            None,
        ),
        (lambda d, t: t / "missing.wav", "file_not_found"),
    ],
    ids=[
        "text",
        "zero-bytes",
        "truncated-mp3",
        "executable",
        "video-only",
        "random-bytes",
        "missing",
    ],
)
def test_bad_input_gives_a_stable_code(eval_dir, tmp_path, make, code):
    path = make(eval_dir, tmp_path)
    with pytest.raises(MediaError) as info:
        load_audio(path)
    if code:
        assert info.value.code == code
    else:
        assert info.value.code in {"unsupported_media", "corrupt_media", "empty_audio"}
    assert info.value.message


def test_duration_limit_holds_when_the_container_declares_none(tmp_path):
    from kazru_stt.domain.errors import MediaError
    from kazru_stt.media import check_duration, iter_audio, probe
    from tests.conftest import write_undeclared_mkv

    path = write_undeclared_mkv(tmp_path / "stream.mkv", 70)
    assert probe(path).duration is None
    assert abs(check_duration(path, None, 600) - 70) < 0.5  # counted from the packets
    with pytest.raises(MediaError) as info:
        check_duration(path, None, 60)
    assert info.value.code == "duration_limit"
    with pytest.raises(MediaError) as info:  # and again on the decoded audio itself
        for _block in iter_audio(path, block_seconds=10, max_seconds=30):
            pass
    assert info.value.code == "duration_limit"
