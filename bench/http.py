"""A small HTTP client for the benchmark: cookies, a login through the login form, timings.

Standard library only, so that what is measured is the server, not a client library.
"""

import http.client
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
READ_CHUNK = 256 * 1024


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    #: Bytes received when the body was streamed and dropped (``keep_body=False``).
    size: int = 0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


class LoginFailed(Exception):
    pass


@dataclass
class Client:
    base_url: str
    timeout: float = 900.0
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        parts = urlsplit(self.base_url)
        self.host, self.port = parts.hostname, parts.port
        self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        keep_body: bool = True,
        on_chunk: Callable[[bytes], None] | None = None,
    ) -> Response:
        """Send one request and read the whole answer; ``seconds`` is the time from sending
        the request to the last byte of the body."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for attempt in (1, 2):
            connection = self._connect()
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=sent)
                answer = connection.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                # A server that closes idle connections: open a new one, once.
                self.close()
                if attempt == 2:
                    raise
                continue
            chunks, size = [], 0
            while chunk := answer.read(READ_CHUNK):
                size += len(chunk)
                if on_chunk is not None:
                    on_chunk(chunk)
                if keep_body:
                    chunks.append(chunk)
            seconds = time.perf_counter() - started
            if answer.will_close:
                self.close()
            headers_read = {name.lower(): value for name, value in answer.getheaders()}
            for name, value in answer.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    cookie_name, _, cookie_value = cookie.partition("=")
                    self.cookies[cookie_name.strip()] = cookie_value.strip()
            return Response(answer.status, headers_read, b"".join(chunks), seconds, size)
        raise AssertionError("unreachable")

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict[str, str], **kwargs) -> Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers.update(kwargs.pop("headers", {}))
        return self.request("POST", path, body=urlencode(data).encode(), headers=headers, **kwargs)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        match = CSRF_INPUT.search(page.text)
        if page.status != 200 or not match:
            raise LoginFailed(f"GET {path}: {page.status}, no CSRF token in the form")
        return match.group(1)

    def login(self, username: str, password: str) -> None:
        """Log in through the login form, as a browser does."""
        token = self.csrf_token("/accounts/login/")
        answer = self.post_form(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token},
        )
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise LoginFailed(f"login as {username!r} refused ({answer.status})")
