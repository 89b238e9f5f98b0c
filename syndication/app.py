"""create_app(settings) -> Litestar: controllers, dependencies, templates, the error map."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig
from sqlalchemy.engine import Engine

from syndication.accountability import worker
from syndication.accountability.controllers import CONTROLLERS as ACCOUNTABILITY_CONTROLLERS
from syndication.articles.controllers import ArticleController
from syndication.bundles.controllers import BundleController
from syndication.db import make_engine, utcnow
from syndication.deps import APP_DEPENDENCIES, Clock
from syndication.errors import EXCEPTION_HANDLERS
from syndication.feeds import runtime as feed_runtime
from syndication.feeds.controllers import FeedController
from syndication.health import healthz
from syndication.licensing.controllers import LicenseController
from syndication.partners.controllers import PartnerController
from syndication.ratelimit import AuthThrottle
from syndication.security import cross_site_guard, nul_guard, security_headers
from syndication.settings import Settings, load_settings
from syndication.staff.controllers import staff_route_handlers
from syndication.staff.web import staff_web_config
from syndication.usage.controllers import PixelController, UsageController

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def route_handlers() -> list[Any]:
    return [
        healthz,
        LicenseController,
        ArticleController,
        PartnerController,
        FeedController,
        BundleController,
        PixelController,
        UsageController,
        *ACCOUNTABILITY_CONTROLLERS,
        *staff_route_handlers(),
    ]


def create_app(
    settings: Settings, *, clock: Clock = utcnow, engine: Engine | None = None
) -> Litestar:
    engine = engine or make_engine(settings)

    def dispose(app: Litestar) -> None:
        try:
            feed_runtime.shutdown(app)  # buffered feed pulls are written before the pool goes
        finally:
            engine.dispose()

    staff_web = staff_web_config(settings)  # session + CSRF, both for /staff/ only
    return Litestar(
        route_handlers=route_handlers(),
        csrf_config=staff_web.csrf_config,
        dependencies=APP_DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "clock": clock,
                "auth_throttle": AuthThrottle(),
            }
        ),
        middleware=[
            security_headers,
            nul_guard,
            cross_site_guard(settings.base_url),
            *staff_web.middleware,
        ],
        openapi_config=OpenAPIConfig(
            title="Syndication",
            version="1",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/swagger")],
        ),
        template_config=TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine),
        request_max_body_size=settings.max_body_bytes,
        on_shutdown=[dispose],
        # Exited in reverse: the worker's jobs are told to stop first (worker.lifespan).
        lifespan=[feed_runtime.lifespan, worker.lifespan(settings, engine, clock)],
        debug=settings.debug,
    )


def app_from_env() -> Litestar:
    """The factory the ASGI server calls in each worker. What exists once the app is built
    lives as long as the worker, so it is moved out of the collector's sight (gc.freeze):
    full collections then scan only what requests create, and stop setting the tail latency."""
    app = create_app(load_settings())
    gc.collect()
    gc.freeze()
    return app
