"""A real OpenAI-compatible server on loopback: llama-cpp-python's ``llama_cpp.server``.

Used by the tests and benchmarks that exercise ``--llm openai:<model>`` against a server
process (the same route as vLLM or a hosted API), and by anyone who wants one by hand::

    python -m llama_cpp.server --model <gguf> --host 127.0.0.1 --port 8765

The process is started with :func:`start_llama_server`, polled until ``/v1/models`` answers,
and stopped by its pid (terminate, then kill).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from agents.llm import LLMError

__all__ = ["LlamaServer", "free_port", "server_command", "start_llama_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(
    model: str | Path, port: int, *, n_ctx: int = 4096, extra: tuple[str, ...] = ()
) -> list[str]:
    """The command line that serves ``model`` (a GGUF) on ``127.0.0.1:port``; ``extra``:
    more of the server's own options (``("--logits_all", "False")``)."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        *extra,
    ]


@dataclass
class LlamaServer:
    """A running ``llama_cpp.server`` process; :meth:`stop` ends it by pid."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    @property
    def base_url(self) -> str:
        """What ``OPENAI_BASE_URL`` should be."""
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, n: int = 20) -> str:
        """The last ``n`` lines the server wrote."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server's pid, then SIGKILL if it has not exited within ``timeout``."""
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout)

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_llama_server(
    model: str | Path,
    *,
    port: int | None = None,
    log_path: str | Path | None = None,
    timeout: float = 120.0,
    n_ctx: int = 4096,
    extra: tuple[str, ...] = (),
) -> LlamaServer:
    """Start ``python -m llama_cpp.server`` for ``model`` and wait until it answers.

    LLMError (with the server's last log lines) if ``llama_cpp.server`` is not installed,
    the process exits, or it does not answer within ``timeout`` seconds.
    """
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as e:
        raise LLMError(
            "llama-cpp-python's server is not installed: pip install 'llama-cpp-python[server]'"
        ) from e
    port = port or free_port()
    log = Path(log_path) if log_path else Path(os.devnull)
    out = open(log, "ab")  # noqa: SIM115 - the child owns it while it runs
    proc = subprocess.Popen(
        server_command(model, port, n_ctx=n_ctx, extra=extra), stdout=out, stderr=subprocess.STDOUT
    )
    out.close()
    server = LlamaServer(proc, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LLMError(
                f"llama_cpp.server exited with {proc.returncode}: {server.log_tail(5)!r}"
            )
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise LLMError(f"llama_cpp.server did not answer on port {port} within {timeout:.0f} s")
