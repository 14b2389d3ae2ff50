"""End to end in a real terminal: ``arbor sql`` inside tmux, driven by send-keys.

The test starts its own tmux server (a private socket) and kills only that server.
It is skipped, saying why, only when tmux is missing (``.ci/run`` installs it; tests
install nothing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
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
