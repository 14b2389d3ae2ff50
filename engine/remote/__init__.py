"""Remotes: a repository shared through a folder (``file://``) or object storage (``s3://``).

    transport.py   the Transport protocol
    opening.py     ``open_transport(url)``: the transport of a URL; URL rules
    filesystem.py  FileTransport: a directory, manifest swapped under a lock by rename
    s3.py          S3Transport: boto3, manifest swapped by conditional PUT
    pack.py        pack file codec (chunks + index; byte format at its top)
    manifest.py    manifest codec (refs, packs, default branch)
    repository.py  RemoteRepository: what a remote holds; reading pack entries
    walk.py        the edges between chunks that push and fetch follow
    sync.py        push, fetch, clone, pull, remote gc
    config.py      a repository's remotes and branch upstreams

The layer sits above ``workspace`` (pull merges through it) and below ``db`` and
``repo``; it imports nothing from ``sql`` or ``cli``.
"""
