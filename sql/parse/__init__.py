"""Parsing: SQL text in a dialect -> a sqlglot tree DuckDB can run.

dialect.py     the dialects, ``AS OF``, ``CALL``, parsing and generating DuckDB SQL
semantics.py   operators whose meaning in the dialect differs from DuckDB's, rewritten
holes.py       the nodes of a compiled query that each execution fills in
nesting.py     deeply nested statements, parsed on a thread with a large stack
statement_words.py  a statement's misspelt first word, for parse errors
"""
