"""Writes: DDL and DML as engine edits, one dispatch (``dispatch.py``'s ``writer_for``).

dispatch.py    statement kind -> the function that runs it
insert.py      INSERT (VALUES, SELECT, ON CONFLICT), ``executemany`` as one batch
update.py      UPDATE (and ``executemany`` of one UPDATE as one batch)
delete.py      DELETE
ddl.py         CREATE, DROP, ALTER
conflicts.py   DML on ``dolt_conflicts_<t>``
common.py      what they share: targets, casts, constraint checks, ``put``
"""
