"""``arbor sql``: the interactive SQL shell (prompt-toolkit), a client of one SQL session.

What the user sees:

- the prompt ``db/branch> `` with a ``*`` (``db/branch*> ``) while the working set
  differs from HEAD, asked of the session after every statement;
- SQL highlighting (pygments' SqlLexer) and completion of keywords, tables,
  columns, branches and tags (:class:`Completions`);
- multi-line input: Enter runs the input once it ends with ``;`` (outside quotes and
  comments, ``cli/script.py``), else starts a new line; a backslash command runs at
  once;
- aligned result tables, paged through ``$PAGER`` (default ``less -SRFX``) when
  longer or wider than the terminal (without a pager, a wide result ends with a hint
  to switch to ``\\x``, one column per line); ``\\timing`` adds the elapsed time to
  each result line;
- Ctrl-C while typing clears the input; Ctrl-C while a statement runs cancels that
  statement (``Client.interrupt``) and keeps the session; Ctrl-D exits, also when
  typed while the shell is busy (between prompts the terminal is kept in cbreak
  mode, so keys typed ahead reach the next prompt as typed: in the terminal's line
  mode a Ctrl-D would be taken as end-of-file and reach it as a NUL);
  Ctrl-C pressed just after Enter cancels that input, even if it came too soon to
  be a signal;
- history kept across runs in ``<repo>/.arbor/sql_history``.

Threads: every statement (and every backslash command) runs on one worker thread,
the same one each time, so the session is only ever used from that thread while
the main thread waits interruptibly; this is what lets Ctrl-C reach a statement
that is inside DuckDB. Completion words are refreshed on the worker after each
statement and only read by the completer.

Backslash commands reuse the ``arbor`` commands themselves (same flags, same
output), run against this shell's session: ``\\checkout``, ``\\branch``,
``\\commit``, ``\\merge``, ``\\diff``, ``\\log``, ``\\status``; plus ``\\d``, ``\\d t``,
``\\timing``, ``\\help`` and ``\\q``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import get_typeahead, store_typeahead
from prompt_toolkit.keys import Keys
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from pygments.lexers.sql import SqlLexer

from arbordb.sql.parse.dialect import quote_identifier

from .client import REPO_DIR, Client
from .render import aligned, row_count_line, use_color
from .render import vertical as render_vertical
from .script import VERTICAL_END, is_complete, split_statements

HISTORY_FILE = "sql_history"
KEYWORDS = """
SELECT FROM WHERE GROUP BY ORDER HAVING LIMIT OFFSET JOIN LEFT RIGHT INNER OUTER FULL CROSS ON
USING AS OF AND OR NOT NULL IS IN BETWEEN LIKE ILIKE EXISTS CASE WHEN THEN ELSE END DISTINCT
UNION ALL INTERSECT EXCEPT WITH INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE DROP ALTER
ADD COLUMN RENAME TO PRIMARY KEY INDEX UNIQUE CHECK DEFAULT REFERENCES CALL SHOW TABLES
DESCRIBE EXPLAIN BEGIN COMMIT ROLLBACK TIMESTAMP ASC DESC COUNT SUM AVG MIN MAX CAST
BIGINT INTEGER DOUBLE VARCHAR BOOLEAN DATE BLOB JSON DECIMAL TRUE FALSE
""".split()
DOLT_NAMES = """
dolt_add dolt_commit dolt_branch dolt_checkout dolt_merge dolt_reset dolt_revert dolt_cherry_pick
dolt_tag dolt_conflicts_resolve dolt_gc dolt_log dolt_branches dolt_tags dolt_status dolt_commits
dolt_commit_ancestors dolt_diff dolt_diff_stat dolt_diff_summary dolt_patch dolt_schema_diff
dolt_conflicts dolt_schema_conflicts dolt_merge_status dolt_hashof dolt_merge_base active_branch
dolt_hashof_table dolt_hashof_db dolt_tests dolt_test_run
""".split()
# \\name -> the arbor command it runs (same flags and output).
VERBS = ("checkout", "branch", "commit", "merge", "diff", "log", "status")
HELP = r"""Type SQL ending in ';' (several lines are fine). Backslash commands:
  \checkout <branch> | -b <new>   switch this session's branch
  \branch [name | -d name]         list, create or delete branches
  \commit [-m] <message>           commit every change (dolt_commit -A)
  \merge <branch>                  merge into the current branch
  \diff [rev [rev]] [table] [--stat|--summary]   show changes (default: not yet staged)
  \log [-n N] [--oneline] [--graph]               history of the current branch
  \status                          changed tables
  \d                               list tables;  \d <table>  a table's columns
  \timing                          show how long each statement took (toggle)
  \x                               one column per line for results (toggle); end a
                                   statement with \G instead of ';' for one result
  \help                            this text;    \q  (or Ctrl-D) quit
Ctrl-C cancels the running statement and keeps the session."""


# Table functions and system tables that may follow FROM / JOIN.
RELATIONS = """
dolt_log dolt_branches dolt_remote_branches dolt_remotes dolt_tags dolt_status dolt_commits
dolt_commit_ancestors dolt_diff dolt_diff_stat dolt_diff_summary dolt_patch dolt_schema_diff
dolt_conflicts dolt_schema_conflicts dolt_merge_status dolt_tests dolt_test_run
dolt_stashes dolt_reflog
""".split()
# Backslash verbs whose arguments are revisions.
_REVISION_VERBS = ("checkout", "merge", "diff", "log", "branch")
_IN_STRING = re.compile(r"'([^']*)\Z")
_AFTER_VERB = re.compile(r"\\(?:" + "|".join(_REVISION_VERBS) + r")\s+(?:-\S+\s+)*([\w./~^-]*)\Z")
_REVISION_STRING = re.compile(
    r"(?:AS\s+OF\s+|dolt_\w+\s*\((?:\s*'[^']*'\s*,)*\s*)'([\w./~^-]*)\Z", re.I
)
_AFTER_RELATION_WORD = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(\w*)\Z", re.I)
_WORD = re.compile(r"(\w*)\Z")


class Completions(Completer):
    """Completes by context, from the words the shell refreshes after every statement:

    - after ``\\checkout``, ``\\merge``, ``\\diff``, ``\\log``, ``\\branch``, inside
      ``AS OF '...`` and inside a ``dolt_*('...`` argument: branches and tags only, a
      hyphenated name completing as one word;
    - after ``FROM``, ``JOIN``, ``INTO``, ``UPDATE``, ``TABLE``: tables, system tables and
      table functions only;
    - inside any other quoted text: nothing;
    - elsewhere: tables, columns, Dolt's names, then keywords.
    """

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.columns: list[str] = []
        self.revisions: list[str] = []

    @property
    def words(self) -> list[str]:
        """Every name offered where any name fits."""
        return list(dict.fromkeys([*self.tables, *self.columns, *self.revisions, *DOLT_NAMES]))

    def refresh(self, client: Client) -> None:
        self.tables = client.tables()
        self.columns = sorted({c for t in self.tables for c in client.columns(t).names})
        self.revisions = list(dict.fromkeys([*client.branches(), *client.tags()]))

    def get_completions(self, document: Document, complete_event: Any) -> Iterable[Completion]:
        text = document.text_before_cursor
        revision = _AFTER_VERB.search(text) or _REVISION_STRING.search(text)
        if revision:
            yield from _matching(revision.group(1), self.revisions, allow_empty=True)
            return
        if _IN_STRING.search(text.split("\n")[-1]) and text.count("'") % 2:
            return  # inside some other quoted text: nothing to offer
        relation = _AFTER_RELATION_WORD.search(text)
        if relation:
            yield from _matching(relation.group(1), [*self.tables, *RELATIONS], allow_empty=True)
            return
        found = _WORD.search(text)  # `\w*` anchored at the end matches every text
        word = found.group(1) if found else ""
        if not word:
            return
        yield from _matching(word, self.words)
        lower = word.lower()
        for keyword in KEYWORDS:
            if keyword.lower().startswith(lower) and keyword.lower() != lower:
                shown = keyword if word[0].isupper() else keyword.lower()
                yield Completion(shown, start_position=-len(word), display_meta="keyword")


def _matching(
    word: str, names: Iterable[str], *, allow_empty: bool = False
) -> Iterable[Completion]:
    """The names that start with ``word`` (case-insensitively), replacing it whole."""
    if not word and not allow_empty:
        return
    lower = word.lower()
    for name in names:
        if name.lower().startswith(lower) and name != word:
            yield Completion(name, start_position=-len(word))


class Shell:
    """The REPL loop around one ``Client`` (see the module docstring).

    Args:
        client: the session to run statements on.
        run_command: runs an ``arbor`` command line (list of arguments) against
            ``client``; backslash verbs go through it.
        explain: the CLI's one error-to-message mapping (``cli/main.py``); returns
            None for an exception that is a bug (the shell then prints its traceback).
        stdout: where results go; ``input``/``output``: prompt-toolkit's terminal
            (tests pass a pipe input and ``DummyOutput``).
    """

    def __init__(
        self,
        client: Client,
        *,
        run_command: Callable[[list[str]], None],
        explain: Callable[[BaseException], tuple[str, int] | None],
        stdout: IO[str] | None = None,
        input: Input | None = None,  # noqa: A002 - prompt-toolkit's name
        output: Output | None = None,
        history: History | None = None,
    ) -> None:
        self.client = client
        self.run_command = run_command
        self.explain = explain
        self.stdout = stdout or sys.stdout
        self.timing = False
        self.expanded = False
        self._pending = ""  # SQL typed before a backslash command on a continuation line
        self.completions = Completions()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arbor-sql")
        self._own_terminal = input is None  # prompt-toolkit reads the process's terminal
        self.session: PromptSession[str] = PromptSession(
            multiline=Condition(lambda: not self._ready(self.session.default_buffer.text)),
            lexer=PygmentsLexer(SqlLexer),
            completer=self.completions,
            history=history or _history(client.path),
            prompt_continuation=lambda width, line, wrap: "." * (width - 2) + "> ",
            input=input,
            output=output,
        )

    # --- the loop ----------------------------------------------------------------------

    def prompt_text(self) -> str:
        dirty = "*" if self._on_worker(self.client.dirty) else ""
        return f"{self.client.name}/{self._on_worker(lambda: self.client.branch)}{dirty}> "

    def run(self) -> None:
        """Read and run input until Ctrl-D or ``\\q``."""
        on_the_terminal = self._own_terminal and sys.platform != "win32" and sys.stdin.isatty()
        typeahead = _cbreak(sys.stdin) if on_the_terminal else nullcontext()
        try:
            with typeahead:
                self._loop()
        finally:
            self._worker.shutdown(wait=True)

    def _loop(self) -> None:
        try:
            self._refresh_completions()
        except KeyboardInterrupt:
            pass  # Ctrl-C before the first prompt: start without completions
        while True:
            pending, self._pending = self._pending, ""
            try:
                text = self.session.prompt(self.prompt_text(), default=pending)
            except KeyboardInterrupt:
                continue  # Ctrl-C while typing: drop the input, keep the session
            except EOFError:
                break
            if text.strip() in ("\\q", "quit", "exit", "quit;", "exit;"):
                break
            if self._ctrl_c_typed_ahead():
                self._print("Statement cancelled (the session is still open).")
                continue
            try:
                self.handle(text)
            except KeyboardInterrupt:
                # Ctrl-C between statements (printing a result, asking for the prompt):
                # the work on the worker has ended (``_on_worker``), back to the prompt
                self._print("Cancelled.")

    def _ctrl_c_typed_ahead(self) -> bool:
        """Whether Ctrl-C was pressed just after the input was entered, too soon to be a
        signal (the terminal was still in prompt-toolkit's raw mode): prompt-toolkit
        keeps such keys for the next prompt. Then the input is not run, and the keys up
        to that Ctrl-C are dropped, as Ctrl-C at a prompt drops its input."""
        terminal = self.session.input
        keys = get_typeahead(terminal)
        if self._own_terminal:
            keys += terminal.read_keys() + terminal.flush_keys()  # not yet read (no wait)
        cancels = [i for i, key in enumerate(keys) if key.key == Keys.ControlC]
        store_typeahead(terminal, keys[cancels[-1] + 1 :] if cancels else keys)
        return bool(cancels)

    @staticmethod
    def _ready(text: str) -> bool:
        stripped = text.strip()
        last = stripped.rsplit("\n", 1)[-1].strip()
        return (
            not stripped
            or last.startswith("\\")  # a backslash command, on any line (as in psql)
            or stripped in ("quit", "exit")
            or is_complete(text)
        )

    def handle(self, text: str) -> None:
        """Run one input: SQL statements, then a backslash command typed on its last line
        (the SQL before it stays in the input, as psql keeps its query buffer)."""
        sql, command = _split_command(text)
        if command and command != VERTICAL_END:
            if sql.strip():
                self._pending = sql.rstrip() + "\n"
            self._backslash(command)
            return
        statements = split_statements(sql)
        for index, statement in enumerate(statements):
            vertical = self.expanded or (command == VERTICAL_END and index == len(statements) - 1)
            shown = self._guarded(partial(self._statement, statement, vertical))
            if shown is None:
                break  # later statements of the same input are not run after an error
            self._page(shown)
        self._refresh_completions()

    # --- running work on the worker thread -------------------------------------------------

    def _on_worker(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` on the session's thread; Ctrl-C interrupts it and, once it has
        ended, re-raises."""
        future: Future[Any] = self._worker.submit(work)
        try:
            while True:
                try:
                    return future.result(timeout=0.1)
                except TimeoutError:
                    continue
        except KeyboardInterrupt:
            self._cancel(future)
            raise

    def _cancel(self, future: Future[Any]) -> None:
        """Interrupt ``future``'s work until it has ended. One interrupt is not enough: an
        interrupt reaches only a statement already inside DuckDB, one that comes while
        the statement is still being planned is lost, and the statement would then run
        to its end. Further Ctrl-Cs meanwhile change nothing."""
        while not future.done():
            try:
                self.client.interrupt()
                wait([future], timeout=INTERRUPT_EVERY)
            except KeyboardInterrupt:
                continue

    def _guarded(self, work: Callable[[], Any]) -> Any:
        """``work()`` run on the worker; errors and cancellation are reported as one line
        and give None."""
        try:
            return self._on_worker(work)
        except KeyboardInterrupt:
            self._print("Statement cancelled (the session is still open).")
        except Exception as exc:  # noqa: BLE001 - the shell reports and keeps going
            explained = self.explain(exc)
            if explained is None:
                self._print("".join(traceback.format_exception(exc)).rstrip())
            else:
                self._print(f"error: {explained[0]}")
        return None

    def _refresh_completions(self) -> None:
        self._guarded(lambda: self.completions.refresh(self.client))

    # --- SQL ---------------------------------------------------------------------------------

    def _statement(self, sql: str, vertical: bool = False) -> str:
        """Run one statement (on the worker); returns what to show for it."""
        start = time.perf_counter()
        table, count = self.client.execute(sql)
        seconds = time.perf_counter() - start if self.timing else None
        if table is None:
            rows = "1 row" if count == 1 else f"{max(count, 0)} rows"
            took = f" ({seconds:.2f} sec)" if seconds is not None else ""
            return f"Query OK, {rows} affected{took}\n"
        if vertical:
            text = render_vertical(table)
        else:
            text = aligned(table, color=use_color(self.stdout)) if table.num_columns else ""
        return text + row_count_line(table.num_rows, seconds) + "\n"

    # --- backslash commands ------------------------------------------------------------------

    def _backslash(self, text: str) -> None:
        try:
            words = shlex.split(text[1:])
        except ValueError as exc:
            self._print(f"error: cannot read the command: {exc}")
            return
        name, args = (words[0], words[1:]) if words else ("help", [])
        if name == "timing":
            self.timing = not self.timing
            self._print(f"Timing is {'on' if self.timing else 'off'}.")
        elif name == "x":
            self.expanded = not self.expanded
            self._print(f"Expanded display is {'on' if self.expanded else 'off'}.")
        elif name in ("help", "?", "h"):
            self._print(HELP)
        elif name == "d":
            shown = self._guarded(lambda: self._describe(args))
            if shown is not None:
                self._page(shown)
        elif name in VERBS:
            if name == "commit" and args and not args[0].startswith("-"):
                args = ["-A", "-m", " ".join(args)]
            self._guarded(lambda: self.run_command([name, *args]))
            self._refresh_completions()
        else:
            self._print(f"error: unknown command \\{name} (type \\help for the list)")

    def _describe(self, args: list[str]) -> str:
        """``\\d``: the tables; ``\\d t``: the columns of table t."""
        if not args:
            return aligned(pa.table({"Tables": pa.array(self.client.tables(), pa.string())}))
        return aligned(self.client.query(f"DESCRIBE {quote_identifier(args[0])}"))

    # --- output ---------------------------------------------------------------------------------

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _page(self, text: str) -> None:
        """Print ``text`` (on the main thread), through the pager when it is taller or
        wider than the terminal (``less -S`` scrolls sideways instead of wrapping); a
        wide result that cannot be paged is followed by a hint to use ``\\x``."""
        is_tty = hasattr(self.stdout, "isatty") and self.stdout.isatty()
        size = shutil.get_terminal_size()
        wide = _widest_line(text) > size.columns
        if is_tty and (text.count("\n") > size.lines - 2 or wide):
            pager = os.environ.get("PAGER", "less -SRFX")
            try:
                done = subprocess.run(pager, shell=True, input=text, text=True, check=False)  # noqa: S602
                if done.returncode != _NO_SUCH_COMMAND:
                    return
            except OSError:
                pass  # no pager: print as is
        self.stdout.write(text)
        if is_tty and wide and not self.expanded:
            self.stdout.write(WIDE_HINT + "\n")
        self.stdout.flush()


INTERRUPT_EVERY = 0.05  # seconds between interrupts while a cancelled statement ends
_NO_SUCH_COMMAND = 127  # the shell's status when the pager is not installed
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDE_HINT = "(the result is wider than the terminal: \\x shows one column per line)"


def _widest_line(text: str) -> int:
    return max((len(_ANSI.sub("", line)) for line in text.splitlines()), default=0)


def _split_command(text: str) -> tuple[str, str]:
    """(the SQL of ``text``, the backslash command on its last line or ``""``); a
    statement ended by ``\\G`` gives the command ``\\G``."""
    stripped = text.rstrip()
    if stripped.endswith(VERTICAL_END) and is_complete(stripped):
        return stripped[: -len(VERTICAL_END)], VERTICAL_END
    head, _, last = stripped.rpartition("\n")
    if last.strip().startswith("\\"):
        return head, last.strip()
    return text, ""


@contextmanager
def _cbreak(stream: IO[str]) -> Iterator[None]:
    """Keep ``stream``'s terminal in cbreak mode (no line editing, no echo, Ctrl-C still
    a SIGINT) while the shell is away from its prompt, and restore it afterwards;
    prompt-toolkit switches to raw mode for each prompt and back to this."""
    import termios  # POSIX only, as is the caller

    fd = stream.fileno()
    before = termios.tcgetattr(fd)
    cbreak = termios.tcgetattr(fd)
    cbreak[3] &= ~(termios.ECHO | termios.ICANON)  # lflag
    cbreak[6][termios.VMIN], cbreak[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, cbreak)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)


def _history(repository: Path) -> History:
    """History kept in the repository's data directory (in memory if that is not writable)."""
    path = repository / REPO_DIR / HISTORY_FILE
    try:
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))
