"""Which bytes a Range header asks for (RFC 9110 §14.1.2), as the audio route reads it."""

from __future__ import annotations

import pytest

from kazru_stt.api.ranged import Unsatisfiable, byte_range

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-99", (0, 99)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-1000", (0, 99)),  # more than there is: all of it
        ("bytes=50-1000", (50, 99)),  # the end clipped to the object's
        ("bytes=0-1,4-5", None),  # several ranges: answered whole
        ("items=0-1", None),  # another unit
        ("bytes=-", None),
        ("bytes=a-b", None),
        ("bytes=٣-٤", None),  # only ASCII digits
    ],
)
def test_range_asked(header, expected):
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=100-", 100), ("bytes=5-4", 100), ("bytes=-0", 100), ("bytes=-5", 0)],
)
def test_unsatisfiable(header, size):
    with pytest.raises(Unsatisfiable):
        byte_range(header, size)
