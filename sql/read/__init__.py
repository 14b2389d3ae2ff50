"""Planning and reads: a query as a template bound to revisions, tables as Arrow streams.

reads.py       query templates, binding each table reference to a revision, views
operands.py    the values a template needs at bind time (parameters, constants)
pushdown.py    primary-key predicates as tree lookups and key ranges
relations.py   tables as streamed Arrow relations, the decoded-column cache
describe.py    SHOW TABLES, DESCRIBE, SHOW CREATE TABLE, PEP 249 descriptions
python_scope.py  DataFrames of the caller's scope named in SQL (replacement scans)
system_select.py  one-system-table queries answered from the relation, without DuckDB
"""
