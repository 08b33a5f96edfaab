"""Bearer tokens and their scopes (SPEC section 15): the tokens file, and who a token is.

`DOORGIFTE_TOKENS_FILE` names a JSON list of `{"name", "sha256", "scopes"}`: the file
holds only the SHA-256 hex digest of each token, never the token. It is read and checked
once, at start-up; any fault (not JSON, an unknown scope, a digest that is not 64 hex
digits, a name or digest given twice) stops the start with a message naming the file
and the entry. A presented token is hashed and compared with every digest in constant
time (`hmac.compare_digest`, no early exit), so the time of an answer says nothing about
how close a guess came. Nothing here imports Flask: the configuration reads this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: every scope a token can carry; `admin` implies every other one
SCOPES = ("decide", "read", "vendors", "replay", "admin")
ADMIN = "admin"
HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
ENTRY_KEYS = {"name", "sha256", "scopes"}


class TokensFileError(ValueError):
    """The tokens file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Token:
    """One configured token: its name (logged), its digest and its scopes."""

    name: str
    digest: bytes  # the 32 bytes of the SHA-256 digest
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


def load(path: Path) -> tuple[Token, ...]:
    """The tokens of `path`, checked; raises TokensFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokensFileError(f"cannot read the tokens file {path}: {exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise TokensFileError(f"the tokens file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, list):
        raise TokensFileError(f'the tokens file {path} is a JSON list of {{"name", "sha256", "scopes"}}')
    if not raw:
        raise TokensFileError(f"the tokens file {path} lists no tokens")
    tokens = [_entry(path, index, item) for index, item in enumerate(raw)]
    for what, key in (("name", lambda t: t.name), ("sha256 digest", lambda t: t.digest)):
        seen: dict[Any, int] = {}
        for index, token in enumerate(tokens):
            first = seen.setdefault(key(token), index)
            if first != index:
                raise TokensFileError(
                    f"the tokens file {path}: entry {index} ({token.name!r}) has the same {what}"
                    f" as entry {first} ({tokens[first].name!r})"
                )
    return tuple(tokens)


def _entry(path: Path, index: int, item: Any) -> Token:
    def fault(msg: str) -> TokensFileError:
        named = f" ({item['name']!r})" if isinstance(item, dict) and isinstance(item.get("name"), str) else ""
        return TokensFileError(f"the tokens file {path}: entry {index}{named}: {msg}")

    if not isinstance(item, dict):
        raise fault('an entry is an object {"name", "sha256", "scopes"}')
    unknown = sorted(set(item) - ENTRY_KEYS)
    if unknown:
        raise fault(f"unknown field {unknown[0]!r}; an entry has name, sha256 and scopes")
    name, digest, scopes = item.get("name"), item.get("sha256"), item.get("scopes")
    if not isinstance(name, str) or not name.strip():
        raise fault("name is required and is a non-empty string")
    if not isinstance(digest, str) or not HEX_DIGEST.fullmatch(digest):
        raise fault('sha256 is the 64 hex digits of the token\'s digest (printf %s "$TOKEN" | sha256sum)')
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise fault(f"scopes is a non-empty list of {', '.join(SCOPES)}")
    for scope in scopes:
        if scope not in SCOPES:
            raise fault(f"unknown scope {scope!r}; scopes are {', '.join(SCOPES)}")
    return Token(name, bytes.fromhex(digest), frozenset(scopes))


def digest_of(token: str) -> bytes:
    """The SHA-256 of a presented token: the bytes as sent (HTTP headers are read as Latin-1)."""
    try:
        data = token.encode("latin-1")
    except UnicodeEncodeError:
        data = token.encode("utf-8", "replace")
    return hashlib.sha256(data).digest()


def identify(tokens: Sequence[Token], presented: str) -> Token | None:
    """The configured token `presented` is, or None. Compares with every entry, in constant time."""
    digest = digest_of(presented)
    found = None
    for token in tokens:
        if hmac.compare_digest(digest, token.digest):
            found = token
    return found
