"""Byte formats, each documented at the top of its module with a version byte:
``keys`` (memcmp-ordered key bytes; the format and the scalar path) and
``key_batch`` (the same encoding for whole Arrow columns), ``types`` (the column
types and their stable text), ``columns`` (Arrow columns <-> leaf buffers),
``leaf`` (columnar leaf nodes) and ``internal`` (internal nodes). Working on
encoded leaves without decoding them: ``layout`` (where each buffer of many
leaves lies), ``patch`` (writing values in place) and ``sparse`` (finding
changed rows byte by byte, reading single rows).
"""
