"""The staff web UI's controllers, one per area; the services do the work."""

from __future__ import annotations

from typing import Any

from litestar.static_files import create_static_files_router

from syndication.staff.controllers.auth import AuthController
from syndication.staff.controllers.dashboard import DashboardController
from syndication.staff.controllers.licenses import LicensePages
from syndication.staff.controllers.partners import PartnerPages
from syndication.staff.controllers.pieces import PiecePages
from syndication.staff.web import STATIC_DIR


def staff_route_handlers() -> list[Any]:
    return [
        AuthController,
        DashboardController,
        PiecePages,
        LicensePages,
        PartnerPages,
        create_static_files_router(
            path="/staff/static", directories=[STATIC_DIR], include_in_schema=False
        ),
    ]
