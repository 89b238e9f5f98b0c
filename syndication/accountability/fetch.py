"""Fetching a partner page for the compliance check: timeouts, a size cap, and redirects
followed by hand so every hop's resolved address is checked (no detour to private hosts)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from syndication.accountability import destinations

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "syndication-compliance/1 (+credit line check)"


@dataclass(frozen=True)
class Fetched:
    status: int | None
    html: str
    error: str | None
    url: str

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _hop(client: httpx.Client, url: str, max_bytes: int) -> tuple[Fetched, str | None]:
    """One request: the result, and where a redirect points (None when not a redirect)."""
    with client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as response:
        if response.is_redirect and "location" in response.headers:
            return Fetched(response.status_code, "", None, url), urljoin(
                url, response.headers["location"]
            )
        body = _read_capped(response, max_bytes)
        if body is None:
            return Fetched(response.status_code, "", f"larger than {max_bytes} bytes", url), None
        text = body.decode(response.encoding or "utf-8", errors="replace")
        return Fetched(response.status_code, text, None, url), None


def fetch_page(
    url: str,
    allow_private: bool,
    *,
    max_bytes: int = MAX_BYTES,
    client: httpx.Client | None = None,
) -> Fetched:
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                destinations.check(url, allow_private)
                fetched, location = _hop(http, url, max_bytes)
            except destinations.Refused as exc:
                return Fetched(None, "", f"refused: {exc}", url)
            except httpx.HTTPError as exc:
                return Fetched(None, "", f"{type(exc).__name__}: {exc}"[:500], url)
            if location is None:
                return fetched
            url = location
        return Fetched(None, "", f"more than {MAX_REDIRECTS} redirects", url)
    finally:
        if own:
            http.close()
