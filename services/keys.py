"""The hub's own key for the docking API: the pepper of its token hashes and the key of its paging cursors.

One random 256-bit secret in `state/api.secret` (mode 0600), made by the first process that needs it, read by every
later one (CLI, portal workers); each use gets its own key derived from it (HMAC-SHA256 with a purpose label), so a
key that leaks through one use says nothing about another. The file is not in backups (the state folder is not): a
hub restored elsewhere without it issues new tokens — the old hashes can no longer be checked, by design.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from govhub.config import Settings

SECRET_FILE = "api.secret"


def state_secret(settings: Settings, name: str) -> str:
    """A random 256-bit secret (hex) in the hub's state folder, mode 0600, made by the first process that needs it
    and read by every later one (the docking API's `api.secret`, the portal's CSRF key)."""
    path: Path = settings.state_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # the first process to get here wins; the others read its secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _hub_secret(settings: Settings) -> bytes:
    return bytes.fromhex(state_secret(settings, SECRET_FILE))


def derived_key(settings: Settings, purpose: str) -> bytes:
    """32 bytes for one purpose ("token-pepper", "cursor"), derived from the hub's secret."""
    return hmac.new(_hub_secret(settings), purpose.encode(), hashlib.sha256).digest()
