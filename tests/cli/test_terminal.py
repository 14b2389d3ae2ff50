"""End to end in a real terminal: ``arbor sql`` inside tmux, driven by send-keys, and
inside a pseudo-terminal of the test's own, where keys arrive at random moments.

The tmux test starts its own tmux server (a private socket) and kills only that server.
It is skipped, saying why, only when tmux is missing (``.ci/run`` installs it; tests
install nothing).
"""

from __future__ import annotations

import fcntl
import os
import pty
import random
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from pathlib import Path

import pytest


def _tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        pytest.skip("tmux is not installed (install it, or run .ci/run, which does)")
    return found


class Pane:
    def __init__(self, tmux: str, socket: str) -> None:
        self.tmux, self.socket = tmux, socket

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )

    def keys(self, *keys: str) -> None:
        """Named keys (Enter, Tab, C-c, C-d)."""
        self.run("send-keys", "-t", "arbor", *keys)

    def type(self, text: str, *then: str) -> None:
        """Literal text, then named keys. tmux reads an argument's trailing ';' as its own
        command separator, so that one is escaped."""
        if text.endswith(";"):
            text = text[:-1] + "\\;"
        self.run("send-keys", "-t", "arbor", "-l", text)
        if then:
            self.keys(*then)

    def text(self) -> str:
        return self.run("capture-pane", "-p", "-t", "arbor", "-S", "-200").stdout

    def wait_for(self, fragment: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.text()
            if fragment in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{fragment!r} never appeared; the screen was:\n{self.text()}")

    def alive(self) -> bool:
        return self.run("has-session", "-t", "arbor").returncode == 0


def test_sql_shell_in_tmux(labels: Path):
    pane = Pane(_tmux(), f"arbor-test-{uuid.uuid4().hex[:8]}")
    exe = Path(sys.executable).with_name("arbor")
    command = f"cd '{labels}' && NO_COLOR=1 '{exe}' sql"
    started = pane.run("new-session", "-d", "-s", "arbor", "-x", "120", "-y", "40", command)
    assert started.returncode == 0, started.stderr
    try:
        pane.wait_for("labels/main>")
        pane.type("SELECT id, label", "Enter")  # no ';' yet: a second line
        pane.type("FROM lab")
        pane.wait_for("  labels")  # the completion menu, tables first
        pane.keys("Tab")  # takes the first completion
        pane.type(" WHERE id = 4;", "Enter")
        screen = pane.wait_for("1 row in set")
        assert "FROM labels WHERE id = 4;" in screen and "|  4 | bird  |" in screen
        pane.type("UPDATE labels SET label = 'owl' WHERE id = 4;", "Enter")
        pane.wait_for("labels/main*>")
        pane.type(
            "SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000) b;", "Enter"
        )
        time.sleep(1.0)
        pane.keys("C-c")
        pane.wait_for("Statement cancelled (the session is still open).")
        pane.type("\\status", "Enter")
        pane.wait_for("modified:       labels")
        pane.keys("C-d")
        deadline = time.monotonic() + 20
        while pane.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pane.alive(), "Ctrl-D did not end the shell"
    finally:
        pane.run("kill-server")


SLOW = "SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000) b;"
PROMPT = re.compile(rb"labels/main\*?>")


class Terminal:
    """``arbor sql`` on a pseudo-terminal: ``send`` types bytes (Ctrl-C raises SIGINT
    in the shell as a real terminal does), ``expect`` waits for output."""

    def __init__(self, repo: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("arbor")), "sql"],
            cwd=repo,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            # the pty becomes the shell's controlling terminal, so ^C is a SIGINT
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
        )
        os.close(slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                if self.process.poll() is not None:
                    return
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return  # the shell has exited and closed the terminal
            if not data:
                return
            with self._lock:
                self.output += data

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def mark(self) -> int:
        with self._lock:
            return len(self.output)

    def expect(self, pattern: re.Pattern[bytes], since: int, timeout: float, what: str) -> int:
        """Wait for ``pattern`` in the output after offset ``since``; returns its end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = pattern.search(self.output, since)
            if found:
                return found.end()
            time.sleep(0.02)
        tail = bytes(self.output[-1500:]).decode(errors="replace")
        raise AssertionError(f"{what} within {timeout} s; the terminal's last output:\n{tail}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=5)
        os.close(self.master)


def test_ctrl_c_and_ctrl_d_at_random_moments(labels: Path):
    """Ctrl-C at any moment (before a statement reaches DuckDB, while it runs, while
    its result prints, at the prompt) leaves a shell that answers the next statement;
    Ctrl-D typed while the shell is still busy ends it."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    statements = [SLOW, SLOW, "SELECT 1 AS one;", "\\status", "UPDATE labels SET score = 5;"]
    terminal = Terminal(labels)
    try:
        terminal.expect(PROMPT, 0, 30, f"no first prompt (seed {seed})")
        for round_ in range(6):
            statement = statements[round_ % len(statements)]
            delay = rng.choice([0.0, rng.uniform(0.0, 0.6)])
            terminal.send(statement + "\r")
            time.sleep(delay)
            since = terminal.mark()
            terminal.send("\x03")
            where = f"round {round_}: {statement!r}, Ctrl-C after {delay:.2f} s (seed {seed})"
            since = terminal.expect(PROMPT, since, 20, f"no prompt after Ctrl-C, {where}")
            terminal.send(f"SELECT 'round' || '{round_}' AS r;\r")
            terminal.expect(
                re.compile(rf"\| round{round_} \|".encode()), since, 20, f"no answer, {where}"
            )
        terminal.send(SLOW + "\r")
        time.sleep(rng.uniform(0.0, 0.6))
        terminal.send("\x03\x04")  # Ctrl-D typed before the shell is back at its prompt
        try:
            status = terminal.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"Ctrl-D did not end the shell (seed {seed})") from None
        assert status == 0
    finally:
        terminal.close()
