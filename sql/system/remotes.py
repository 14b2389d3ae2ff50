"""Remotes and remote-tracking branches as relations.

    dolt_remotes          name, url, fetch_specs (JSON list), params (JSON object)
    dolt_remote_branches  name (remotes/<remote>/<branch>), hash, latest_committer,
                          latest_committer_email, latest_commit_date,
                          latest_commit_message

``fetch_specs`` is Dolt's default refspec ``refs/heads/*:refs/remotes/<name>/*``;
``params`` is ``{}`` (endpoint and credentials come from the AWS chain, never
from the repository). A remote branch is what the last fetch, pull, push or
clone saw on the remote.
"""

from __future__ import annotations

import json

import pyarrow as pa

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.remote import config

from .common import SystemContext, hashes, times


def remotes_table(ctx: SystemContext) -> pa.Table:
    known = config.remotes(ctx.db.store)
    return pa.table(
        {
            "name": values_array(list(known), pa.string()),
            "url": values_array(list(known.values()), pa.string()),
            "fetch_specs": values_array(
                [json.dumps([f"refs/heads/*:refs/remotes/{n}/*"]) for n in known], pa.string()
            ),
            "params": values_array(["{}"] * len(known), pa.string()),
        }
    )


def remote_branches_table(ctx: SystemContext) -> pa.Table:
    tracking = ctx.db.refs.remote_branches()
    commits = [ctx.db.commit(a) for a in tracking.values()]
    return pa.table(
        {
            "name": values_array([f"remotes/{n}" for n in tracking], pa.string()),
            "hash": hashes(list(tracking.values())),
            "latest_committer": values_array([c.author for c in commits], pa.string()),
            "latest_committer_email": values_array([c.email for c in commits], pa.string()),
            "latest_commit_date": times([c.timestamp for c in commits]),
            "latest_commit_message": values_array([c.message for c in commits], pa.string()),
        }
    )
