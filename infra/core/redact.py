"""How a value from the input may appear in a message: quoted, described, or not at all.

A stack's settings can hold a pasted secret (a live key in `billing:domain`),
and a refusal is printed to a terminal, a CI log or a pull-request comment.
A value is quoted in full (a mode, a domain, a URL, an enum word, a plan key)
unless it could be a secret: a credential's shape anywhere, and, while a
stack's settings are checked, also a token's shape (a long unbroken run of
mixed-case letters and digits, as Vercel and Cloudflare tokens are) or a
structured value. Those are described by kind, length and at most a key's
prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

# Stripe's key shapes, the one statement of them: `<kind>_<mode>_<body>`. Secret and restricted
# keys are secrets; a publishable key is shipped to browsers.
MODES = ("test", "live")
KEY_KINDS = ("sk", "rk", "pk")
SECRET_KINDS = ("sk", "rk")
_KEY = re.compile(rf"({'|'.join(KEY_KINDS)})_({'|'.join(MODES)})_", re.ASCII)
_WEBHOOK_SECRET = "whsec_"  # noqa: S105 (a prefix, not a secret)
_echo = ContextVar("echo_values", default=True)
# A secret's shape anywhere in a text: a secret or restricted key of either mode, a signing secret.
# A token's shape: 20 or more letters, digits, '_' and '-' with no break (no '.', ':' or '/', which
# host names and URLs have).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}", re.ASCII)
_SECRET = re.compile(rf"(?:{'|'.join(SECRET_KINDS)})_(?:{'|'.join(MODES)})_[0-9A-Za-z]{{8,}}"
                     rf"|{_WEBHOOK_SECRET}[0-9A-Za-z]{{8,}}", re.ASCII)


def stripe_prefix(kind: str, mode: str) -> str:
    """The prefix of a Stripe key of `kind` (sk, rk, pk) in `mode`: `rk_live_`."""
    return f"{kind}_{mode}_"


def mode_prefixes(mode: str) -> tuple[str, ...]:
    """Every Stripe key prefix of `mode`: `sk_live_`, `rk_live_`, `pk_live_`."""
    return tuple(stripe_prefix(kind, mode) for kind in KEY_KINDS)


# Other services' keys the app may need beside Stripe's, by the `kind:` a `hosting.extra` entry
# declares: each mode's prefixes. Clerk's look like Stripe's (sk_live_, pk_test_), which is why
# an entry must say what it is before a live one passes the guards.
SERVICE_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "clerk": {"live": ("sk_live_", "pk_live_"), "test": ("sk_test_", "pk_test_")},
}


def service_key_mode(kind: str, value: str) -> str | None:
    """The mode of `value` as a key of service `kind` (`live`, `test`), or None when it is not one."""
    return next((mode for mode, prefixes in SERVICE_KEYS[kind].items() if value.startswith(prefixes)), None)


def key_prefix(key: str) -> str:
    """What may be shown of a key: its kind and mode, or a hint that it has neither."""
    match = _KEY.match(key)
    if match:
        return match.group(0)
    if key.startswith(_WEBHOOK_SECRET):
        return _WEBHOOK_SECRET
    return "an unrecognised prefix"


def key_mode(key: str) -> str | None:
    match = _KEY.match(key)
    return match.group(2) if match else None


def wrong_mode(key: str, mode: str) -> str | None:
    """Why `key` is refused on a `mode` stack for its mode (every refusal says it this way), or
    None when it is a Stripe key of `mode`. Shows only the prefix."""
    found = key_mode(key)
    if found == mode:
        return None
    if found is None:
        return f"the value has {key_prefix(key)}, not a {mode}-mode Stripe key"
    return f"the key is a {found}-mode key ({key_prefix(key)}) but the stack is in {mode} mode"


def key_kind(key: str) -> str | None:
    """`sk`, `rk`, `pk` for a Stripe key of either mode, `whsec` for a signing secret, else None."""
    match = _KEY.match(key)
    if match:
        return match.group(1)
    return "whsec" if key.startswith(_WEBHOOK_SECRET) else None


def describe(value: Any) -> str:
    """A value by its kind and length, and a Stripe key's prefix: never its body."""
    if value is None:
        return "nothing"
    if not isinstance(value, str):
        return f"a {type(value).__name__} value"
    prefix = f" starting {key_prefix(value)}" if key_kind(value) else ""
    article = "an" if str(len(value)).startswith("8") or len(value) in (11, 18) else "a"
    return f"{article} {len(value)}-character value{prefix}"


def shown(value: Any) -> str:
    """The value quoted for a message, or described when it may be a secret."""
    text = repr(value)
    return text if may_echo(value) and len(text) <= 80 else describe(value)


def may_echo(value: Any) -> bool:
    """Whether a message may quote `value`, or a suggestion derived from it.

    Never a credential's shape; while a stack's settings are checked, nothing that could be a
    token either (see `could_be_secret`).
    """
    if isinstance(value, str) and (key_kind(value) or has_secret(value)):
        return False
    return _echo.get() or not could_be_secret(value)


def could_be_secret(value: Any) -> bool:
    """A value a person might have pasted a credential into: a token's shape, or a structure."""
    if isinstance(value, bool | int | float) or value is None:
        return False
    if not isinstance(value, str):
        return True  # a list or mapping may hold anything; described by its kind
    return bool(_TOKEN.fullmatch(value)) and any(c.isdigit() for c in value) \
        and any(c.isupper() for c in value) and any(c.islower() for c in value)


@contextmanager
def values_hidden() -> Iterator[None]:
    """Within this block (a stack's settings), `shown` describes a value that could be a secret."""
    token = _echo.set(False)
    try:
        yield
    finally:
        _echo.reset(token)


def mask(text: str) -> str:
    """`text` with every secret-shaped run replaced by its prefix and length: the last guard on
    any message, whatever put the value there (a YAML tag, an alias, a mapping key)."""
    return _SECRET.sub(lambda m: f"{key_prefix(m.group(0))}... ({len(m.group(0))} characters)", text)


def has_secret(text: str) -> bool:
    return bool(_SECRET.search(text))


def secret_shaped(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every place in parsed data, keys included, that holds a secret-shaped string."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and has_secret(key):
                yield (*path, key), key
            yield from secret_shaped(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from secret_shaped(value, (*path, index))
    elif isinstance(data, str) and has_secret(data):
        yield path, data


def url_shown(url: str) -> str:
    """A URL from a server as it may be printed: scheme, host, port and path only.

    User-info, query and fragment are where tokens travel (`https://user:pass@host/?token=`).
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return describe(url)
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}{parts.path}"
