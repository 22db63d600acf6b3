"""What a stereo recording's channels are taken to be (KAZRU_STEREO_CALLS, a job's option):
`auto`: one party per channel when the audio says so (a recorded call), else one mix;
`split`: always one party per channel; `mix`: always one mix of both."""

STEREO_MODES = ("auto", "split", "mix")
