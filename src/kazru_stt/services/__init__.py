"""Use cases: create, run, cancel, export and delete transcription jobs."""
