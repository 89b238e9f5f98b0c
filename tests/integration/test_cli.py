"""The `syndication` command, run as scripts and staff would run it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from syndication.cli import main

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Origin News</title><link>https://origin.example.org/</link>
<description>d</description><copyright>Origin News Ltd</copyright>
<item><title>First piece</title><link>https://origin.example.org/first</link>
<guid>https://origin.example.org/first</guid><category>Politics</category>
<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate><author>ana@example.org (Ana)</author>
<content:encoded><![CDATA[<p>Body one<script>x</script></p>]]></content:encoded>
<media:content url="https://origin.example.org/a.jpg" medium="image"/></item>
<item><title>Second piece</title><link>https://origin.example.org/second</link>
<description>&lt;p&gt;Body two&lt;/p&gt;</description>
<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>No link at all</title><description>x</description></item>
</channel></rss>"""


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNDICATION_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATION_BASE_URL", "http://testserver.local")

    def invoke(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


LICENSE = ["license", "add", "free-eligible", "--name", "Free", "--url",
           "https://news.example.org/republish", "--contact-email", "lic@example.org",
           "--credit-line", "Content by {{ holder }}.", "--min-audience", "1000"]  # fmt: skip


def test_staff_add_and_token(run, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(
        "staff", "add", "Desk@Example.org", "--password-stdin", stdin="long enough pw\n"
    )
    assert code == 0 and "desk@example.org" in out
    code, _, err = run(
        "staff", "add", "desk@example.org", "--password-stdin", stdin="long enough pw\n"
    )
    assert code == 1 and len(err.strip().splitlines()) == 1 and "exists" in err
    code, _, err = run("staff", "add", "x@example.org", "--password-stdin", stdin="short\n")
    assert code == 1 and "password" in err
    code, out, _ = run("staff", "token", "desk@example.org")
    token = out.strip().splitlines()[-1]
    answer = client.get("/api/v1/licenses", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    code, _, err = run("staff", "token", "nobody@example.org")
    assert code == 1 and "email" in err


def test_license_and_partner(run, client: TestClient, staff_headers: dict) -> None:  # type: ignore[no-untyped-def]
    assert run(*LICENSE)[0] == 0
    code, _, err = run(*LICENSE)
    assert code == 1 and "code" in err
    code, _, err = run(*LICENSE[:2], "bad", *LICENSE[3:-4], "--credit-line", "{{ who }}")
    assert code == 1 and err.startswith("syndication: credit-line:")
    code, out, _ = run("partner", "add", "gazette", "--name", "Gazette", "--audience", "5000",
                       "--license", "free-eligible", "--section", "politics")  # fmt: skip
    assert code == 0
    key = out.strip().splitlines()[-1]
    assert key.startswith("synp_")
    partner = client.get("/api/v1/partners/gazette", headers=staff_headers).json()
    assert partner["licenses"] == ["free-eligible"] and partner["sections"] == ["politics"]
    code, _, err = run("partner", "add", "p2", "--name", "P", "--audience", "-1", "--license", "x")
    assert code == 1 and "audience" in err
    code, out, _ = run("partner", "key", "gazette")
    second = out.strip().splitlines()[-1]
    assert second.startswith("synp_") and second != key
    prefix = "_".join(key.split("_")[:2])
    assert run("partner", "revoke", "gazette", prefix)[0] == 0
    keys = client.get("/api/v1/partners/gazette/keys", headers=staff_headers).json()
    assert [k["revoked_at"] is not None for k in keys] == [True, False]
    code, _, err = run("partner", "revoke", "gazette", "synp_nope")
    assert code == 1 and "prefix" in err


def test_bad_usage_is_one_line(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("partner", "add", "x")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_import_is_idempotent(run, client: TestClient, staff_headers: dict, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED)
    code, _, err = run("import", str(feed), "--license", "free-eligible", "--quiet")
    assert code == 1 and "license" in err
    run(*LICENSE)
    code, out, _ = run("import", str(feed), "--license", "free-eligible", "--quiet")
    assert code == 0 and "2 registered, 0 already known, 1 refused" in out
    code, out, _ = run("import", str(feed), "--license", "free-eligible", "--quiet")
    assert "0 registered, 2 already known" in out
    page = client.get("/api/v1/articles", headers=staff_headers).json()
    first = next(a for a in page["items"] if a["slug"] == "first-piece")
    assert first["section"] == "politics" and "<script" not in first["body_html"]
    assert first["copyright_holder"] == "Origin News Ltd"
    assert first["images"][0]["url"] == "https://origin.example.org/a.jpg"
    assert first["published_at"] == "2026-11-24T10:00:00Z"
    code, _, err = run("import", str(tmp_path / "missing.xml"), "--license", "free-eligible")
    assert code == 1 and "no such file" in err


def test_db_downgrade_and_upgrade(run) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "downgrade", "base")[0] == 0
    assert run("db", "upgrade")[0] == 0


def test_demo_is_idempotent_and_prints_a_token_last(run, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("demo")
    assert code == 0 and "/feeds/atom.xml?key=synp_" in out
    token = out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/articles?limit=100", headers=headers).json()
    assert first["total"] == 12
    assert run("demo")[0] == 0
    assert client.get("/api/v1/articles?limit=100", headers=headers).json()["total"] == 12
    statuses = {a["slug"]: a for a in first["items"]}
    assert statuses["mayor-interview"]["status"] == "withdrawn"
    assert statuses["hospital-waits"]["corrections"]
    assert statuses["budget-leak"]["embargo_until"]
    assert any(not i["syndicate"] for a in first["items"] for i in a["images"])
    assert len(client.get("/api/v1/licenses", headers=headers).json()) == 3


def test_installed_script_prints_the_key_alone_last(database_url: str, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "syndication"
    env = {**os.environ, "SYNDICATION_DATABASE_URL": database_url}
    done = subprocess.run(
        [str(script), *LICENSE], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        f"'{script}' partner add gz --name Gz --audience 5 --license free-eligible | tail -n 1",
        shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.stdout.startswith("synp_") and len(done.stdout.strip().split()) == 1


def test_backup_and_restore(
    run, client: TestClient, staff_headers: dict, tmp_path: Path, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from sqlalchemy import create_engine, text

    run(*LICENSE)
    target = tmp_path / "backup.db"
    code, out, err = run("db", "backup", str(target))
    assert code == 0, err
    assert run("db", "backup", str(target))[0] == 1  # never overwrites
    if database_url.startswith("sqlite"):
        assert sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone() == ("ok",)
        restored = create_engine(f"sqlite:///{target}")
        with restored.connect() as conn:
            codes = conn.execute(text("SELECT code FROM license")).scalars().all()
        assert codes == ["free-eligible"]
    else:
        assert target.stat().st_size > 0 and "pg_dump" in out


def test_bad_setting_is_one_line(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SYNDICATION_DB_POOL_SIZE", "lots")
    code, _, err = run("db", "upgrade")
    assert code == 1 and err.strip() == (
        "syndication: SYNDICATION_DB_POOL_SIZE must be an integer, not 'lots'"
    )


def test_db_upgrade_refuses_a_database_a_newer_release_upgraded(
    run, engine, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    """In one line naming the revision, and without touching it (a `serve` of this release
    serves on it instead: tests/live/test_rolling_upgrade.py)."""
    from tests.revisions import NEWER, newer_schema, revision

    with newer_schema(engine):
        code, _, err = run("db", "upgrade")
        assert code == 1
        # The last line: an earlier test's logging handler may have written to stderr too.
        assert (
            err.strip()
            .splitlines()[-1]
            .startswith(
                f"syndication: the database is at {NEWER}, a revision this release does not have"
            )
        )
        assert revision(engine) == NEWER


@pytest.mark.parametrize("command", ["upgrade", "downgrade"])
def test_db_commands_refuse_an_unknown_revision_in_one_line(run, command: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("db", command, "no_such_revision")
    assert code == 1
    # The last line: an earlier test's logging handler may have written to stderr too.
    assert err.strip().splitlines()[-1] == (
        "syndication: Can't locate revision identified by 'no_such_revision'"
    )
