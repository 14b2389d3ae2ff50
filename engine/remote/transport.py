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

``open_transport(url)`` (``opening.py``) picks the implementation from the URL's scheme.
"""

from __future__ import annotations

from typing import Protocol

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

    def delete_pack(self, name: str) -> None: ...
