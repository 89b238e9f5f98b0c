"""Fixtures for accountability: pieces and partners through the API, deliveries recorded as
the feeds and bundles will record them, and real local HTTP servers (receiver, partner pages)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from syndication.accountability.ledger import Delivery, record_deliveries
from syndication.articles.models import Article
from syndication.db import open_session
from syndication.partners.service import get_partner
from syndication.republish.access import load_for_partner, view_for
from syndication.republish.render import render_fragment
from syndication.settings import Settings
from tests.conftest import Clock
from tests.factories import article_body, create, license_body, partner_body, partner_key


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback receivers and partner pages are allowed here, as the settings permit in tests."""
    return dataclasses.replace(
        settings, webhook_allow_loopback_http=True, compliance_allow_private=True
    )


@dataclass
class World:
    client: TestClient
    headers: dict[str, str]
    engine: Engine
    settings: Settings
    clock: Clock
    keys: dict[str, str] = field(default_factory=dict)

    def license(self, code: str = "free-eligible", **over: Any) -> dict:
        return create(self.client, self.headers, "/api/v1/licenses", license_body(code, **over))

    def piece(self, slug: str = "council-budget", **over: Any) -> dict:
        return create(self.client, self.headers, "/api/v1/articles", article_body(slug, **over))

    def partner(self, slug: str = "gazette", **over: Any) -> dict:
        body = create(self.client, self.headers, "/api/v1/partners", partner_body(slug, **over))
        self.keys[slug] = partner_key(self.client, self.headers, slug)
        return body

    def rendered(self, partner: str, piece: str) -> tuple[Delivery, str]:
        """Exactly the HTML the partner receives for the piece now, and its ledger entry."""
        with open_session(self.engine, write=False) as session:
            who = get_partner(session, partner)
            article, license, decision = load_for_partner(session, who, piece, self.clock())
            view = view_for(self.settings, who, article, license, decision)
        html = render_fragment(view)
        assert who.id is not None and article.id is not None
        delivery = Delivery(
            partner_id=who.id,
            article_id=article.id,
            revision=article.revision,
            html=html,
            license_code=license.code,
            credit_line=view.credit_line,
            at=self.clock(),
        )
        return delivery, html

    def deliver(self, partner: str, piece: str) -> str:
        """What a feed pull or bundle download will record once the lead wires it."""
        delivery, html = self.rendered(partner, piece)
        record_deliveries(self.engine, [delivery])
        return html

    def piece_id(self, slug: str) -> int:
        with open_session(self.engine, write=False) as session:
            found = session.scalars(select(Article.id).where(Article.slug == slug)).first()
        assert found is not None
        return int(found)

    def webhook(self, partner: str, url: str) -> dict:
        path = f"/api/v1/partners/{partner}/webhooks"
        return create(self.client, self.headers, path, {"url": url})

    def partner_headers(self, partner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[partner]}"}


@pytest.fixture
def world(
    client: TestClient, staff_headers: dict[str, str], engine: Engine, settings: Settings,
    clock: Clock,
) -> World:  # fmt: skip
    w = World(client, staff_headers, engine, settings, clock)
    w.license()
    return w


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """A real HTTP server on a free loopback port, answering from a script of responses."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []  # consumed one per POST; 200 once empty
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.arrived = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def page(self, path: str, html: str, status: int = 200, **headers: str) -> str:
        self.pages[path] = (status, {"Content-Type": "text/html; charset=utf-8", **headers},
                            html.encode())  # fmt: skip
        return self.url + path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                server.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = server.statuses.pop(0) if server.statuses else 200
                self._answer(status, {}, b"")
                server.arrived.set()

            def do_GET(self) -> None:
                status, headers, body = server.pages.get(self.path, (404, {}, b"not found"))
                self._answer(status, headers, body)

        return Handler

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def free_url() -> Callable[[], str]:
    """A loopback URL where nothing listens (a receiver that is down)."""

    def make() -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    return make
