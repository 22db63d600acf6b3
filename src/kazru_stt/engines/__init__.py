"""Recognition engines: each turns 16 kHz mono audio into transcript segments."""
