"""Comparing and combining versions: ``diff`` (tables and rows between two roots),
``merge`` (three-way merge of roots, tables and rows, conflicts, violations,
resolution), ``schema_merge`` (schemas by column tag) and ``artifacts`` (the
stored conflicts and constraint violations of a table).
"""
