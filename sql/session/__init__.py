"""A connection's session: transactions, statement dispatch, results.

session.py     ``Session``: one branch, its transaction, each statement sent to its stage
results.py     ``Result`` and its kinds: rows, Arrow tables, DuckDB cursors
fastpath.py    point SELECT and one-row UPDATE by primary key, without DuckDB
"""
