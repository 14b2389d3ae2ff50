"""Dolt's system tables, table functions and informational functions, as Arrow.

``arbordb.sql.system.registry`` is the entry point (name dispatch); the modules
here each build one family of relations from the engine's version graph:

    common.py     revisions and diff endpoints, hash / time columns, tag-aligned row
                  diffs, CREATE TABLE text
    log.py        dolt_log (table and function), dolt_commits, dolt_commit_ancestors
    refs.py       dolt_branches, dolt_tags, dolt_status, dolt_merge_status
    remotes.py    dolt_remotes, dolt_remote_branches
    history.py    dolt_diff, dolt_diff_<t>, dolt_commit_diff_<t>, dolt_history_<t>,
                  dolt_blame_<t>
    diffs.py      dolt_diff(), dolt_diff_stat(), dolt_diff_summary(), dolt_schema_diff()
    patch.py      dolt_patch(): SQL statements that turn one version into another
    conflicts.py  dolt_conflicts[_<t>], dolt_schema_conflicts,
                  dolt_constraint_violations[_<t>], dolt_preview_merge_conflicts[_summary]()
"""
