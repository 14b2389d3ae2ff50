"""The ``Transport`` protocol: the few operations a remote's storage must offer.

A remote is a folder of objects (``file://`` directory, ``s3://bucket/prefix``)::

    manifest                 the refs and the list of packs (manifest.py)
    packs/<name>.pack        immutable pack files (pack.py)

Contracts every transport keeps:
  (1) ``swap_manifest(data, expected)`` is a compare-and-swap: it replaces the
      manifest only if its current version is ``expected`` (None: only if there
      is no manifest), atomically, and returns False without writing otherwise.
  (2) A reader never sees a partly written manifest or pack: a pack is visible
      under its name only once whole (object stores: one PUT; folders: a rename).
  (3) Failures of the storage itself (unreachable, access denied, no bucket) raise
      ``RemoteUnreachable`` naming the URL and what to check, quickly.

``open_transport(url)`` picks the implementation from the URL's scheme.
"""

from __future__ import annotations

import os
from typing import Protocol
from urllib.parse import urlsplit

from ..errors import InvalidInput

MANIFEST = "manifest"
PACKS = "packs/"
PACK_SUFFIX = ".pack"


def pack_key(name: str) -> str:
    return f"{PACKS}{name}{PACK_SUFFIX}"


class Transport(Protocol):
    url: str

    def read_manifest(self) -> tuple[bytes | None, str | None]:
        """The manifest's bytes and a version token, or (None, None) if there is none."""
        ...

    def swap_manifest(self, data: bytes, expected: str | None) -> bool:
        """Contract (1)."""
        ...

    def put_pack(self, name: str, data: bytes) -> None:
        """Store a pack under its name (contract (2)); storing it again is harmless."""
        ...

    def read_pack(self, name: str) -> bytes:
        """The whole pack."""
        ...

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes of a pack from ``offset`` (fewer only past its end)."""
        ...

    def list_packs(self) -> dict[str, float]:
        """Every stored pack name -> its age in seconds (for remote gc)."""
        ...

    def delete_pack(self, name: str) -> None:
        ...


def open_transport(url: str | os.PathLike[str]) -> Transport:
    """The transport for ``url``: ``file:///abs/path``, a plain path, or ``s3://bucket/prefix``.

    Raises:
        InvalidInput: an unknown scheme, or credentials written into the URL.
    """
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("a remote URL is empty; give file:///path, a path or s3://bucket/prefix")
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise InvalidInput(
            f"remote URL {_redact(url)!r} carries credentials; remove them from the URL and set "
            "them in the standard AWS places instead (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE and ~/.aws/credentials, or an instance role)"
        )
    if parts.scheme == "s3":
        from .s3 import S3Transport  # boto3 is loaded only for s3:// remotes

        return S3Transport(url)
    if parts.scheme in ("", "file") or (len(parts.scheme) == 1 and url[1:3] == ":\\"):
        from .filesystem import FileTransport

        return FileTransport(url)
    raise InvalidInput(
        f"remote URL {url!r}: scheme {parts.scheme!r} is not supported "
        "(use file:///abs/path, a plain path, or s3://bucket/prefix)"
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.hostname or "").geturl()
