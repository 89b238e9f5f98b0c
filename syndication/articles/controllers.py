"""Staff JSON API for articles: CRUD, corrections and withdrawal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import HeaderParameter, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.orm import Session

from syndication.articles import service
from syndication.articles.models import (
    Article,
    ArticleCreate,
    ArticlePage,
    ArticlePublic,
    ArticleUpdate,
    CorrectionCreate,
    WithdrawalCreate,
)
from syndication.deps import staff_guard


def _answer(article: Article, status: int = HTTP_200_OK) -> Response[ArticlePublic]:
    return Response(
        ArticlePublic.model_validate(article),
        status_code=status,
        headers={"ETag": service.etag_of(article)},
    )


class ArticleController(Controller):
    path = "/api/v1/articles"
    guards = [staff_guard]
    tags = ["articles"]

    @get("/", sync_to_thread=True)
    def list_articles(
        self,
        db: Session,
        now: datetime,
        status: Literal["published", "withdrawn"] | None = None,
        section: Annotated[str | None, Parameter(max_length=100)] = None,
        license: Annotated[str | None, Parameter(max_length=128)] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        embargoed: bool | None = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10**9)] = 0,
    ) -> ArticlePage:
        rows, total = service.list_articles(
            db,
            status=status,
            section=section,
            license=license,
            q=q,
            embargoed_at=now if embargoed else None,
            limit=limit,
            offset=offset,
        )
        items = [ArticlePublic.model_validate(a) for a in rows]
        return ArticlePage(items=items, total=total, limit=limit, offset=offset)

    @post("/", sync_to_thread=True)
    def create_article(
        self, db: Session, now: datetime, data: ArticleCreate
    ) -> Response[ArticlePublic]:
        return _answer(service.create_article(db, data, now), HTTP_201_CREATED)

    @get("/{slug:str}", sync_to_thread=True)
    def get_article(self, db: Session, slug: str) -> Response[ArticlePublic]:
        return _answer(service.get_article(db, slug))

    @patch("/{slug:str}", sync_to_thread=True)
    def update_article(
        self,
        db: Session,
        now: datetime,
        slug: str,
        data: ArticleUpdate,
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> Response[ArticlePublic]:
        return _answer(service.update_article(db, slug, data, if_match, now))

    @delete("/{slug:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_article(self, db: Session, now: datetime, slug: str) -> None:
        service.delete_article(db, slug, now)

    @post("/{slug:str}/corrections", sync_to_thread=True)
    def add_correction(
        self, db: Session, now: datetime, slug: str, data: CorrectionCreate
    ) -> Response[ArticlePublic]:
        return _answer(service.add_correction(db, slug, data.text, now), HTTP_201_CREATED)

    @post("/{slug:str}/withdraw", sync_to_thread=True)
    def withdraw_article(
        self, db: Session, now: datetime, slug: str, data: WithdrawalCreate
    ) -> Response[ArticlePublic]:
        return _answer(service.withdraw_article(db, slug, data.reason, now))
