"""The ``arbor`` commands, one module per family of verbs, each listing its commands
in a ``COMMANDS`` tuple; ``cli/lazy_group.py`` names them all and imports a module
only when one of its commands runs (so nothing is imported here).

Each command is a thin click function (STYLE G12): it parses flags, opens the
repository through ``Invocation.client()`` and runs SQL; output formatting lives
in ``cli/render.py``, ``cli/diffview.py`` and ``cli/logview.py``. Every command's
help ends with an ``Example:`` block (``docs/cli.md`` is checked against it).
"""
