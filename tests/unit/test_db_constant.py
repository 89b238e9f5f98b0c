"""`db.constant`: a status word written into a statement's text, never anything else."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from syndication.articles.models import Article
from syndication.db import constant


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])
def test_the_word_is_in_the_text_not_a_parameter(dialect: object) -> None:
    compiled = select(col(Article.id)).where(col(Article.status) == constant("withdrawn"))
    sql = compiled.compile(dialect=dialect)  # type: ignore[arg-type]
    assert "article.status = 'withdrawn'" in str(sql)
    assert not sql.params


@pytest.mark.parametrize("value", ["x'; DROP TABLE article; --", "Published", "", "été", "a b"])
def test_anything_but_a_lowercase_word_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a constant word"):
        constant(value)
