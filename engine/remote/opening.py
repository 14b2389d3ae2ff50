"""Opening a remote: the ``Transport`` (transport.py) that serves a URL, by its scheme."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ..errors import InvalidInput
from .transport import Transport

__all__ = ["open_transport"]


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
