"""The dashboard page."""

from __future__ import annotations

from datetime import datetime

from litestar import get
from litestar.response import Template
from sqlalchemy.orm import Session

from syndication.staff import dashboard
from syndication.staff.charts import render_svg
from syndication.staff.pages import AnyRequest, StaffPages, page
from syndication.staff.web import UI_PREFIX


class DashboardController(StaffPages):
    path = UI_PREFIX

    @get("/", sync_to_thread=True)
    def dashboard(self, request: AnyRequest, db: Session, now: datetime) -> Template:
        board = dashboard.build(db, now)
        charts = [(c, render_svg(c)) for c in (board.by_day, board.by_partner, board.by_piece)]
        return page(request, "dashboard.html", board=board, charts=charts)
