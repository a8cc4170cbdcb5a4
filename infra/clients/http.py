"""One bounded HTTP exchange: a total deadline, a body cap, and no redirect ever followed.

urllib, requests and http.client all time out per socket read, so a server
that drips a byte a second holds them forever; urllib also follows a redirect
to another origin with the Authorization header still on it. Here the whole
exchange (name lookup, connect, TLS, request, headers, body) runs in a worker
thread that the caller stops waiting for at the deadline, shutting the socket
so the worker ends too. A 3xx is returned as the answer, never followed: the
caller decides what a redirect means (for an API, an error; for a webhook
probe, the endpoint's answer). HTTP_PROXY / HTTPS_PROXY / NO_PROXY are
honoured as urllib and requests honour them (an https request is tunnelled
through the proxy with CONNECT, so the proxy never sees its headers).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import math
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import unquote, urlsplit

DEFAULT_SECONDS = 10.0
MAX_SECONDS = 300.0
MAX_BODY_BYTES = 8 * 1024 * 1024  # a full page of 100 Stripe objects is well under 1 MiB
_CHUNK = 64 * 1024

Failure = Literal["timeout", "dns", "refused", "tls", "connection", "protocol", "too large", "url"]


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_SECONDS
    """The whole exchange, from name lookup to the body's last byte."""
    max_bytes: int = MAX_BODY_BYTES
    until: float | None = None
    """A deadline for everything the caller asks (time.monotonic()): each exchange gets `seconds` or
    what is left of it, whichever is less, so many requests (pages) cannot add up past it."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    """Lower-cased names."""
    body: bytes
    seconds: float

    @property
    def redirect(self) -> str | None:
        """Where a 3xx points, or None for any other answer."""
        if 300 <= self.status < 400:
            return self.headers.get("location", "")
        return None


class NetworkError(Exception):
    """No usable answer arrived; the message says why, and never carries a header or body."""

    def __init__(self, kind: Failure, message: str, seconds: float = 0.0) -> None:
        super().__init__(message)
        self.kind: Failure = kind
        self.seconds = seconds


def request(
    method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = None,
    limits: Limits = Limits(),
) -> Answer:
    """Send one request and read the whole answer within `limits`, or raise NetworkError."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise NetworkError("url", f"not an http(s) URL: {parts.scheme or 'no scheme'}://{host or ''}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise NetworkError("url", f"the port of {host} is not a number") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cut = ""
    if limits.until is not None:
        left = limits.until - time.monotonic()
        if left <= 0:
            raise NetworkError("timeout", "not sent: the command's total deadline had passed")
        if left < limits.seconds:
            cut = ", what was left of the command's total deadline"
            limits = replace(limits, seconds=left)
    exchange = _Exchange(parts.scheme, host, port, limits, cut)
    worker = threading.Thread(target=exchange.run, args=(method, target, dict(headers or {}), body),
                              name=f"http {host}", daemon=True)
    worker.start()
    if not exchange.done.wait(limits.seconds):
        exchange.abort()
        raise exchange.late()
    if exchange.answer is None:
        raise exchange.error or RuntimeError("the HTTP worker ended without an answer")
    return exchange.answer


@dataclass
class _Exchange:
    scheme: str
    host: str
    port: int
    limits: Limits
    cut: str = ""
    """Said after the seconds when the command's total deadline, not the request's, set them."""
    stage: str = "resolving and connecting"
    done: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None
    error: BaseException | None = None
    """A NetworkError, or anything unforeseen, raised again in the caller's thread."""
    _aborted: bool = False
    _connection: http.client.HTTPConnection | None = None

    def late(self, seconds: float | None = None) -> NetworkError:
        """The answer did not come in time, whichever clock (the caller's wait, the socket's) saw it."""
        allowed = round(self.limits.seconds, 2)
        said = f"no complete answer within {allowed:g}s{self.cut} (stalled {self.stage})"
        return NetworkError("timeout", said, self.limits.seconds if seconds is None else seconds)

    def run(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> None:
        started = time.monotonic()
        try:
            self.answer = self._exchange(method, target, headers, body, started)
        except NetworkError as error:
            self.error = error
        except (OSError, http.client.HTTPException) as error:
            self.error = self._failure(error, time.monotonic() - started)
        except BaseException as error:  # a bug, not the network: the caller's crash handler reports it
            self.error = error
        finally:
            if self._connection is not None:
                self._connection.close()
            self.done.set()

    def _exchange(self, method: str, target: str, headers: dict[str, str], body: bytes | None,
                  started: float) -> Answer:
        proxy = _proxy(self.scheme, self.host)
        host, port = (proxy.host, proxy.port) if proxy else (self.host, self.port)
        if self.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=self.limits.seconds, context=ssl.create_default_context())
            if proxy:
                connection.set_tunnel(self.host, self.port, headers=proxy.headers)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.limits.seconds)
            if proxy:  # a plain-http proxy takes the absolute URL, and its own credentials
                target = f"http://{self.host}:{self.port}{target}"
                headers = {**headers, **proxy.headers}
        self._connection = connection
        connection.connect()
        # Never reconnect on our own: after abort() the socket is gone for good.
        connection.auto_open = 0
        if self._aborted:
            raise NetworkError("timeout", "aborted")
        self.stage = "sending the request"
        connection.request(method, target, body=body, headers=headers)
        self.stage = "waiting for the status line and headers"
        response = connection.getresponse()
        announced = response.getheader("Content-Length")
        if announced and announced.isdigit() and int(announced) > self.limits.max_bytes:
            raise NetworkError("too large", f"the answer announces {int(announced)} bytes, over the "
                               f"{_size(self.limits.max_bytes)} cap", time.monotonic() - started)
        chunks: list[bytes] = []
        size = 0
        while True:
            self.stage = f"reading the body ({size} bytes so far)"
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise NetworkError("too large", f"the answer is over the {_size(self.limits.max_bytes)} "
                                   "cap", time.monotonic() - started)
            chunks.append(chunk)
        headers_read = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers_read, b"".join(chunks), time.monotonic() - started)

    def abort(self) -> None:
        """Called at the deadline: end the worker's blocking read by shutting its socket."""
        self._aborted = True
        connection = self._connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by the worker
                sock.shutdown(socket.SHUT_RDWR)

    def _failure(self, error: OSError | http.client.HTTPException, seconds: float) -> NetworkError:
        where = f"{self.host}:{self.port}"
        if isinstance(error, socket.gaierror):
            return NetworkError("dns", f"could not resolve host {self.host}", seconds)
        if isinstance(error, ConnectionRefusedError):
            return NetworkError("refused", f"connection refused by {where} (nothing listens there)", seconds)
        if isinstance(error, ssl.SSLError):
            reason = getattr(error, "reason", None) or type(error).__name__
            return NetworkError("tls", f"TLS with {where} failed: {reason}", seconds)
        if isinstance(error, TimeoutError):
            return self.late(seconds)
        if isinstance(error, http.client.HTTPException):
            return NetworkError("protocol", f"{where} broke off the HTTP exchange while {self.stage} "
                                f"({type(error).__name__})", seconds)
        reason = error.strerror or str(error) or type(error).__name__
        return NetworkError("connection", f"connection to {where} failed while {self.stage}: {reason}",
                            seconds)


@dataclass(frozen=True)
class _Proxy:
    host: str
    port: int
    headers: dict[str, str]


def _proxy(scheme: str, host: str) -> _Proxy | None:
    """The proxy the environment names for this request, if any (NO_PROXY honoured)."""
    url = urllib.request.getproxies().get(scheme)
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise NetworkError("url", f"{scheme}_proxy must be an http:// proxy URL")
    try:
        port = parts.port or 80
    except ValueError:
        raise NetworkError("url", f"the port of {scheme}_proxy is not a number") from None
    headers = {}
    if parts.username:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return _Proxy(parts.hostname, port, headers)


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"


def seconds_flag(text: str) -> float:
    """argparse type for --timeout: a finite number of seconds in (0, MAX_SECONDS]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds; give one greater than 0 and at most {MAX_SECONDS:g}")
    return value
