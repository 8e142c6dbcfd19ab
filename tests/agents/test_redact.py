"""No credential reaches the terminal: LangSmith's own warnings on an unreachable endpoint
(a real client, a real refused connection) and any log line holding a secret env value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents._redact import redact

KEY = "lsv2_pt_0123456789abcdefSECRET4242"
ROOT = Path(__file__).parents[2]

CHILD = """
import logging
logging.basicConfig(level=logging.WARNING)
from agents._redact import install
install()
from langsmith import Client
Client(api_url="http://127.0.0.1:9", api_key={key!r}, timeout_ms=300).info
logging.getLogger("x").warning("token in a message: %s", {key!r})
try:
    raise RuntimeError("failed with key " + {key!r})
except RuntimeError:
    logging.getLogger("x").exception("boom")
import warnings
warnings.warn("a warning that quotes " + {key!r})
"""


def test_langsmith_warnings_and_log_lines_carry_no_key() -> None:
    env = os.environ | {"LANGSMITH_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(key=KEY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    text = out.stdout + out.stderr
    assert "Failed to get info" in text and "boom" in text  # the warnings themselves stay
    assert "[redacted]" in text
    assert KEY not in text and KEY[-6:] not in text and "lsv2_*" not in text, text


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("API Key: lsv2_****************ef", "API Key: [redacted]"),
        ("headers {'x-api-key': 'sk-abc123'}", "'x-api-key': '[redacted]'"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer [redacted]"),
        ("nothing secret here, api docs", "nothing secret here, api docs"),
    ],
)
def test_labelled_credentials_are_redacted(line: str, kept: str) -> None:
    assert kept in redact(line, values=[])


def test_the_cli_installs_the_filter() -> None:
    child = (
        "import logging\n"
        "from agents.cli import main\n"
        "try:\n"
        "    main(['graph', '--mermaid'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "logging.getLogger('langsmith.client').warning('API Key: %s', " + repr(KEY) + ")\n"
    )
    env = os.environ | {"LANGSMITH_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, env=env, timeout=120
    )
    assert "API Key: [redacted]" in out.stderr and KEY not in out.stdout + out.stderr
