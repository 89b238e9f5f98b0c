"""The partner feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1, for the partner holding the key."""

from __future__ import annotations

from typing import Any

from litestar import Controller, HttpMethod, Request, route
from litestar.response.base import ASGIResponse

from syndication.feeds.runtime import FeedRuntime, runtime
from syndication.feeds.serving import respond

DESCRIPTION = (
    "The pieces the partner holding the key (Authorization: Bearer, or ?key=) is entitled to. "
    "Query: limit (1-100, default 50), cursor (from a next/previous link), section, since "
    "(RFC 3339). Answers ETag and Last-Modified, and 304 to a matching conditional request. "
    "HEAD answers the same status and headers without the body."
)
# HEAD beside GET: a CDN or a partner's checker asks for the headers alone (RFC 9110 9.3.2).
# Litestar's @head refuses handlers that return a body, so both methods share one route.
METHODS = [HttpMethod.GET, HttpMethod.HEAD]


class FeedController(Controller):
    """Every route answers through `respond`, which authenticates the partner first."""

    _feeds: FeedRuntime | None = None

    def feeds(self, request: Request[Any, Any, Any]) -> FeedRuntime:
        # Kept on the controller instance (one per app): no state lookup per request.
        if self._feeds is None:
            self._feeds = runtime(request.app)
        return self._feeds

    path = "/feeds"
    tags = ["feeds"]

    @route(
        "/rss.xml", http_method=METHODS, description=DESCRIPTION, media_type="application/rss+xml"
    )
    async def rss(self, request: Request[Any, Any, Any]) -> ASGIResponse:
        return await respond(self.feeds(request), request, "rss")

    @route(
        "/atom.xml", http_method=METHODS, description=DESCRIPTION, media_type="application/atom+xml"
    )
    async def atom(self, request: Request[Any, Any, Any]) -> ASGIResponse:
        return await respond(self.feeds(request), request, "atom")

    @route(
        "/feed.json",
        http_method=METHODS,
        description=DESCRIPTION,
        media_type="application/feed+json",
    )
    async def json_feed(self, request: Request[Any, Any, Any]) -> ASGIResponse:
        return await respond(self.feeds(request), request, "json")
