"""A real OpenAI-compatible server for the backend tests: llama-cpp-python's
``llama_cpp.server`` on 127.0.0.1 with the embedded GGUF, started once per session as a
process and stopped by its pid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The running server (``.base_url``, ``.pid``); skipped without the ``[server]`` extra."""
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    pytest.importorskip("langchain_openai", reason="needs mendako[openai]")
    from agents._llm_server import start_llama_server
    from agents.llm import embedded_model_path

    log: Path = tmp_path_factory.mktemp("llama_server") / "server.log"
    server = start_llama_server(embedded_model_path(), log_path=log)
    try:
        yield server
    finally:
        server.stop()
        assert server.process.poll() is not None, "the server outlived its fixture"
