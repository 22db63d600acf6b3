"""What a stereo recording's channels are taken to be (KAZRU_STEREO_CALLS, a job's option):
`auto`: one party per channel when the audio says so (a recorded call), else one mix;
`split`: always one party per channel; `mix`: always one mix of both."""

from __future__ import annotations

from typing import Literal, get_args

StereoMode = Literal["auto", "split", "mix"]
STEREO_MODES: tuple[str, ...] = get_args(StereoMode)
