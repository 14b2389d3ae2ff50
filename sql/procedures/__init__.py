"""Dolt's stored procedures (``CALL dolt_<verb>(...)``): the version verbs.

call.py        ``call_procedure``: a CALL sent to its procedure, by name
verbs.py       dolt_commit, dolt_add, dolt_merge, dolt_checkout, ...: the version verbs
remotes.py     dolt_remote, dolt_clone, dolt_fetch, dolt_push, dolt_pull
data_tests.py  dolt_tests and dolt_test_run: checks that travel with the data
query_diff.py  dolt_query_diff: the rows two queries' results differ in
"""
