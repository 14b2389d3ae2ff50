"""``FileTransport``: a remote in a directory (``file:///abs/path`` or a plain path).

The manifest is replaced under an exclusive ``flock`` on ``manifest.lock``
(released by the kernel if the process dies) by writing ``manifest.<random>.tmp``,
fsyncing it and renaming it over ``manifest`` (atomic on POSIX): transport
contract (1). The version token is the BLAKE3 of the manifest's bytes. Packs are
written to a temporary name and renamed into place, so a pack is whole or absent
(contract (2)); a push killed midway leaves at most a ``*.tmp`` file, which
remote gc removes.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import RemoteUnreachable
from ..hash import address_of, format_address
from .transport import MANIFEST, PACK_SUFFIX, PACKS, pack_key


class FileTransport:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        path = unquote(parts.path) if parts.scheme == "file" else url
        self.root = Path(path).expanduser().absolute()
        self.url = url

    def read_manifest(self) -> tuple[bytes | None, str | None]:
        try:
            data = (self.root / MANIFEST).read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise self._failure("read", exc) from None
        return data, format_address(address_of(data))

    def swap_manifest(self, data: bytes, expected: str | None) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / "manifest.lock", "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                current, token = self.read_manifest()
                if token != expected:
                    return False
                self._write_atomic(self.root / MANIFEST, data)
                return True
        except OSError as exc:
            raise self._failure("write", exc) from None

    def put_pack(self, name: str, data: bytes) -> None:
        try:
            (self.root / PACKS).mkdir(parents=True, exist_ok=True)
            self._write_atomic(self.root / pack_key(name), data)
        except OSError as exc:
            raise self._failure("write", exc) from None

    def read_pack(self, name: str) -> bytes:
        try:
            return (self.root / pack_key(name)).read_bytes()
        except OSError as exc:
            raise self._failure("read", exc) from None

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        try:
            with open(self.root / pack_key(name), "rb") as f:
                f.seek(offset)
                return f.read(length)
        except OSError as exc:
            raise self._failure("read", exc) from None

    def list_packs(self) -> dict[str, float]:
        now = time.time()
        try:
            entries = list(os.scandir(self.root / PACKS))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise self._failure("read", exc) from None
        return {
            e.name.removesuffix(PACK_SUFFIX): now - e.stat().st_mtime
            for e in entries
            if e.name.endswith(PACK_SUFFIX) or e.name.endswith(".tmp")
        }

    def delete_pack(self, name: str) -> None:
        path = self.root / PACKS / name
        if not name.endswith(".tmp"):
            path = self.root / pack_key(name)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise self._failure("write", exc) from None

    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _failure(self, verb: str, exc: OSError) -> RemoteUnreachable:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return RemoteUnreachable(
                f"cannot {verb} the remote at {self.url}: permission denied "
                f"({exc.strerror}); this remote is read-only to you (ask for write access, "
                "or push to another remote)"
            )
        return RemoteUnreachable(f"cannot {verb} the remote at {self.url}: {exc.strerror or exc}")
