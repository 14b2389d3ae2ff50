"""Dolt's base32 text of bytes: RFC 4648 bit order, the alphabet ``0-9a-v`` (``hash.py``
says why), no padding for a multiple of five bytes (an address is twenty)."""

from __future__ import annotations

import base64

__all__ = ["ALPHABET", "from_text", "to_text"]

ALPHABET = "0123456789abcdefghijklmnopqrstuv"

_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_TEXT = str.maketrans(_RFC4648, ALPHABET)
_FROM_TEXT = str.maketrans(ALPHABET, _RFC4648)


def to_text(data: bytes) -> str:
    """``data`` written in the alphabet (lower case)."""
    return base64.b32encode(data).decode("ascii").translate(_TO_TEXT)


def from_text(digits: str) -> bytes:
    """The bytes ``digits`` (lower case, from the alphabet) write."""
    return base64.b32decode(digits.translate(_FROM_TEXT))
