"""The manifest: the one small mutable object of a remote, naming its refs and packs.

Everything else on a remote is an immutable pack (pack.py). A push uploads its
pack first and then replaces the manifest by compare-and-swap (transport.py), so
a reader sees either the old manifest or the new one, and every pack a manifest
names was complete before it was named.

Byte format: UTF-8 JSON, keys sorted, no whitespace (one manifest -> one byte
string), an object with exactly these members::

    "format"  1 (MANIFEST_VERSION); another value is refused
    "head"    the remote's default branch (what a clone checks out), or null
    "packs"   object: pack name (32-character address) -> pack size in bytes
    "refs"    object: ref name (refs/heads/<b>, refs/tags/<t>) -> 32-character
              address (a commit for a branch, a tag chunk for a tag)

Example: ``{"format":1,"head":"main","packs":{"4v...":57},"refs":{"refs/heads/main":"q0..."}}``
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import RemoteError
from ..hash import format_address, parse_address

MANIFEST_VERSION = 1


@dataclass
class Manifest:
    """A remote's refs (name -> address bytes), packs (name -> size) and default branch."""

    refs: dict[str, bytes] = field(default_factory=dict)
    packs: dict[str, int] = field(default_factory=dict)
    head: str | None = None

    def encode(self) -> bytes:
        body = {
            "format": MANIFEST_VERSION,
            "head": self.head,
            "packs": dict(sorted(self.packs.items())),
            "refs": {name: format_address(a) for name, a in sorted(self.refs.items())},
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes, where: str) -> Manifest:
        try:
            body = json.loads(data.decode("utf-8"))
            if body.get("format") != MANIFEST_VERSION:
                raise RemoteError(
                    f"the remote at {where} has manifest format {body.get('format')!r}; "
                    f"this ArborDB reads format {MANIFEST_VERSION} (upgrade ArborDB)"
                )
            refs = {str(n): parse_address(str(a)) for n, a in body["refs"].items()}
            packs = {str(n): int(s) for n, s in body["packs"].items()}
            head = body["head"]
        except RemoteError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RemoteError(
                f"the manifest of the remote at {where} is damaged ({exc}); "
                "restore it from a copy of the remote"
            ) from None
        return cls(refs, packs, head if isinstance(head, str) else None)

    def branches(self) -> dict[str, bytes]:
        return _strip(self.refs, "refs/heads/")

    def tags(self) -> dict[str, bytes]:
        return _strip(self.refs, "refs/tags/")


def _strip(refs: dict[str, bytes], prefix: str) -> dict[str, bytes]:
    return {n[len(prefix) :]: a for n, a in sorted(refs.items()) if n.startswith(prefix)}
