"""Secrets never reach the terminal: log records (and warnings) are scrubbed of credentials.

Libraries mendako uses log their own warnings, and some put credentials in them (LangSmith's
client, on an unreachable endpoint, prints its API key, masked or not depending on the
version, with the request's headers). `install()` puts a filter on every handler of the root
logger that replaces, in each record's text and traceback:

- the value of every environment variable whose name says it is a secret (`*API_KEY*`,
  `*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`), wherever it appears;
- whatever follows an `API key:` / `api_key=` / `Authorization: Bearer` label (masked forms
  such as `lsv2_****ef` still give away a key's kind and ends);

and routes Python warnings through logging so they are scrubbed too.
"""

from __future__ import annotations

import logging
import os
import re

SECRET_NAME = re.compile(r"API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
LABELLED = re.compile(
    r"(?P<label>(?:x-)?api[ _-]?key[\"']?\s*[:=]\s*[\"']?|authorization[\"']?\s*[:=]\s*[\"']?"
    r"(?:bearer\s+)?|bearer\s+)(?P<value>[^\s\"',)}\]]+)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of the environment's secret-named variables (8+ characters), longest first."""
    env = os.environ if environ is None else environ
    found = {v.strip() for k, v in env.items() if SECRET_NAME.search(k) and len(v.strip()) >= 8}
    return sorted(found, key=len, reverse=True)


def redact(text: str, values: list[str] | None = None) -> str:
    """`text` with every secret value and every labelled credential replaced."""
    for value in secret_values() if values is None else values:
        text = text.replace(value, REDACTED)
    return LABELLED.sub(lambda m: m.group("label") + REDACTED, text)


class RedactSecrets(logging.Filter):
    """A handler filter that scrubs each record's message and traceback (see module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        values = secret_values()
        message = record.getMessage()
        clean = redact(message, values)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, values), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, values)
        return True


def install() -> None:
    """Scrub every handler of the root logger (call after `logging.basicConfig`)."""
    logging.captureWarnings(True)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
