"""README's serving examples run as written: the shell lines (curl, ``connreq token``,
``connreq --server``) and the Python ``Client`` example, against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import Server, free_port, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"


def serving_blocks() -> list[tuple[str, str]]:
    text = README.read_text()
    section = text.split("## Serving", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def test_the_readme_serving_examples_run(tmp_path: Path) -> None:
    blocks = serving_blocks()
    assert [lang for lang, _ in blocks] == ["sh", "sh", "python"]
    assert "serve --listen 127.0.0.1:7878" in blocks[0][1]
    port = free_port()
    env: dict[str, Any] = {k: v for k, v in os.environ.items() if not k.startswith("CONNREQ_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    (tmp_path / "data").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "connreq", "--db", "./data/connreq.db", "serve", "--listen", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(Server(db="", port=port).healthy, what="the server starting")
        shell = blocks[1][1].replace("127.0.0.1:7878", f"127.0.0.1:{port}")
        python = blocks[2][1].replace("127.0.0.1:7878", f"127.0.0.1:{port}")
        script = f"set -euo pipefail\n{shell}\n{sys.executable} - <<'PY'\n{python}PY\n"
        r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        assert '"state":"accepted"' in r.stdout
        assert "connections: 1" in r.stdout
        assert "[1] Cy wants to connect with you." in r.stdout
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
