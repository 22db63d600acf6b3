"""Probe and decode media with PyAV (FFmpeg in its wheels; no system ffmpeg needed).

Decoding streams: `iter_audio` yields 16 kHz float32 blocks, so a 3-hour file never has to
sit in memory as raw PCM at once. Anything that is not usable audio raises `MediaError`
with a stable code: file_not_found, empty_audio, unsupported_media, no_audio_stream,
corrupt_media.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import MediaError

SAMPLE_RATE = 16000
# Demuxers FFmpeg picks for plain text or pictures; they never carry audio.
_NON_MEDIA_FORMATS = {"tty", "image2", "png_pipe", "jpeg_pipe", "gif", "webp_pipe", "bmp_pipe"}
# A file whose decodable audio falls this far short of its declared length is truncated.
_TRUNCATION_RATIO = 0.9


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None  # seconds, from the container; None when it does not say
    sample_rate: int
    channels: int
    codec: str
    container: str


Source = str | os.PathLike | BinaryIO  # a path, or a seekable reader (e.g. of an S3 object)


def media_name(source: Source) -> str:
    """How errors name the source: a file's name (never its directory)."""
    if hasattr(source, "read"):
        return Path(str(getattr(source, "name", "upload"))).name
    return Path(source).name


def _open(source: Source) -> av.container.InputContainer:
    name = media_name(source)
    target: str | BinaryIO
    if not isinstance(source, str | os.PathLike):
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(0)
        target = source
    else:
        p = Path(source)
        if not p.is_file():
            raise MediaError(f"{name}: no such file", code=ErrorCode.FILE_NOT_FOUND)
        size, target = p.stat().st_size, str(p)
    if size == 0:
        raise MediaError(f"{name}: the file is empty (0 bytes)", code=ErrorCode.EMPTY_AUDIO)
    try:
        container = av.open(target, mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{name}: not an audio or video file ({exc.strerror or exc})",
            code=ErrorCode.UNSUPPORTED_MEDIA,
        ) from exc
    if container.format.name in _NON_MEDIA_FORMATS:
        container.close()
        raise MediaError(f"{name}: not an audio or video file", code=ErrorCode.UNSUPPORTED_MEDIA)
    if not container.streams.audio:
        has_other = bool(container.streams.video)
        container.close()
        if has_other:
            raise MediaError(f"{name}: the file has no audio track", code=ErrorCode.NO_AUDIO_STREAM)
        raise MediaError(f"{name}: not an audio or video file", code=ErrorCode.UNSUPPORTED_MEDIA)
    return container


def _declared_duration(container: av.container.InputContainer) -> float | None:
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def probe(source: Source) -> MediaInfo:
    """Read the container header: duration, rate, channels. Cheap; decodes nothing."""
    container = _open(source)
    try:
        stream = container.streams.audio[0]
        return MediaInfo(
            duration=_declared_duration(container),
            sample_rate=stream.codec_context.sample_rate or 0,
            channels=stream.codec_context.channels or 0,
            codec=stream.codec_context.name,
            container=container.format.name,
        )
    finally:
        container.close()


def iter_audio(
    path: str | os.PathLike,
    block_seconds: float = 60.0,
    *,
    channels: int = 1,
    check_truncation: bool = True,
    max_seconds: float | None = None,
) -> Iterator[np.ndarray]:
    """Yield the audio as float32 blocks at 16 kHz (shape (n,) mono, or (channels, n)).

    Raises MediaError for non-media, empty or corrupt input; a file that decodes to much
    less than its header declares is reported as truncated (`corrupt_media`); one that
    decodes to more than `max_seconds` stops with `duration_limit`, whatever its header says.
    """
    name = Path(path).name
    container = _open(path)
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format="flt", layout=layout, rate=SAMPLE_RATE)
    block_len = int(block_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_len = 0
    total = 0
    declared = _declared_duration(container)

    def frames():
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            for frame in packet.decode():
                yield from resampler.resample(frame)
        yield from resampler.resample(None)  # flush

    try:
        for frame in frames():
            array = frame.to_ndarray()  # (1, n*ch) interleaved for packed 'flt'
            array = array.reshape(-1, channels).T if channels > 1 else array.reshape(-1)
            pending.append(array)
            n = array.shape[-1]
            pending_len += n
            total += n
            if max_seconds is not None and total > max_seconds * SAMPLE_RATE:
                raise _too_long(name, None, max_seconds)
            while pending_len >= block_len:
                joined = np.concatenate(pending, axis=-1)
                yield np.ascontiguousarray(joined[..., :block_len], dtype=np.float32)
                rest = joined[..., block_len:]
                pending, pending_len = [rest], rest.shape[-1]
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{name}: the audio cannot be decoded ({exc})", code=ErrorCode.CORRUPT_MEDIA
        ) from exc
    finally:
        container.close()

    if total == 0:
        raise MediaError(
            f"{name}: the file contains no decodable audio", code=ErrorCode.EMPTY_AUDIO
        )
    decoded = total / SAMPLE_RATE
    if check_truncation and declared and declared > 1.0 and decoded < declared * _TRUNCATION_RATIO:
        raise MediaError(
            f"{name}: the file is truncated or damaged: its header declares {declared:.1f} s "
            f"but only {decoded:.1f} s can be decoded",
            code=ErrorCode.CORRUPT_MEDIA,
            details={"declared_s": round(declared, 3), "decoded_s": round(decoded, 3)},
        )
    if pending_len:
        yield np.ascontiguousarray(np.concatenate(pending, axis=-1), dtype=np.float32)


def _too_long(name: str, duration: float | None, limit: float) -> MediaError:
    said = (
        f"is {duration:.0f} s long; the limit here is"
        if duration is not None
        else ("is longer than the limit here,")
    )
    return MediaError(
        f"{name}: the recording {said} {limit:.0f} s",
        code=ErrorCode.DURATION_LIMIT,
        details={"duration_s": duration, "max_duration_s": limit},
    )


def check_duration(source: Source, declared: float | None, limit: float) -> float:
    """The recording's length, checked against `limit`. When the container does not declare
    a length, the audio packets are counted (demuxed, not decoded: fast), stopping as soon as
    the limit is passed. The decoder enforces the limit again on the audio itself."""
    name = media_name(source)
    if declared is not None:
        if declared > limit:
            raise _too_long(name, declared, limit)
        return declared
    container = _open(source)
    try:
        stream = container.streams.audio[0]
        base = float(stream.time_base or 0) or 1 / (stream.codec_context.sample_rate or 1)
        first: int | None = None
        end = 0
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
            if (end - first) * base > limit:
                raise _too_long(name, None, limit)
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{name}: the audio cannot be read ({exc})", code=ErrorCode.CORRUPT_MEDIA
        ) from exc
    finally:
        container.close()
    return (end - first) * base if first is not None else 0.0


def load_audio(path: str | os.PathLike, *, channels: int = 1) -> np.ndarray:
    """Decode the whole file into memory (for short files and tests)."""
    blocks = list(iter_audio(path, block_seconds=600.0, channels=channels))
    return np.concatenate(blocks, axis=-1)
