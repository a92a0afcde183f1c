"""The shell scripts a newcomer meets first say what to do when something is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _install_browser(tmp_path: Path, chromium: Path) -> subprocess.CompletedProcess[str]:
    """Run scripts/install-browser on a PATH with the basics and no chromium, no apt-get."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("bash", "cat", "id"):
        found = shutil.which(name)
        assert found is not None
        (tools / name).symlink_to(found)
    env = {**os.environ, "PATH": str(tools), "CHROMIUM": str(chromium)}
    return subprocess.run([str(tools / "bash"), str(ROOT / "scripts" / "install-browser")],
                          env=env, capture_output=True, text=True, timeout=30, check=False)


def test_without_chromium_or_apt_install_browser_says_what_to_install(tmp_path: Path) -> None:
    done = _install_browser(tmp_path, tmp_path / "no-chromium")
    assert done.returncode == 1
    assert "no apt-get" in done.stderr and "brew install --cask chromium" in done.stderr
    assert "chromium` command" in done.stderr


def test_with_chromium_install_browser_does_nothing(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done = _install_browser(tmp_path, chromium)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
