"""The `syndication` command. Every command reads the same settings as the server."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

from pydantic import BaseModel

from syndication.errors import DomainError
from syndication.settings import SettingError, Settings, load_settings

M = TypeVar("M", bound=BaseModel)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: {message}\n")


def _fail(message: str) -> NoReturn:
    print(f"syndication: {message}", file=sys.stderr)
    raise SystemExit(1)


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from syndication.db import make_engine

    return make_engine(settings)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    from syndication import migrate, server

    migrate.upgrade_to_serve(settings)
    server.serve(host=args.host, port=args.port, workers=args.workers, server_name=args.server)


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> None:
    from syndication import migrate

    migrate.upgrade(settings, args.revision)
    print(f"database at {args.revision}")


def cmd_db_downgrade(settings: Settings, args: argparse.Namespace) -> None:
    from syndication import migrate

    migrate.downgrade(settings, args.revision)
    print(f"database at {args.revision}")


def cmd_db_backup(settings: Settings, args: argparse.Namespace) -> None:
    from pathlib import Path

    from syndication.backup import backup

    print(backup(settings.database_url, Path(args.path)))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    from syndication import demo, migrate

    migrate.upgrade(settings)
    result = demo.load(_engine(settings), settings)
    print(f"staff login: {result.staff_email} / {result.staff_password}")
    print(f"partner feed: {result.feed_url}")
    print(f"staff API token (Authorization: Bearer ...):\n{result.staff_token}")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        _fail("the passwords differ")
    return first


def cmd_staff_add(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.db import session_scope
    from syndication.staff.accounts import create_staff

    password = _read_password(args)
    with session_scope(_engine(settings)) as session:
        user = create_staff(session, args.email, password)
    print(f"staff account {user.email} created")


def cmd_staff_token(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.db import session_scope
    from syndication.staff.accounts import issue_token

    with session_scope(_engine(settings)) as session:
        print(issue_token(session, args.email))


def cmd_license_add(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.db import session_scope
    from syndication.licensing.models import LicenseCreate
    from syndication.licensing.service import create_license

    fields = {
        "code": args.code,
        "name": args.name,
        "credit_line": args.credit_line,
        "url": args.url,
        "contact_email": args.contact_email,
        "summary": args.summary,
        "terms": args.terms,
        "min_audience": args.min_audience,
        "window_days": args.window_days,
        "credit_placement": args.credit_placement,
        "allows_modification": args.allows_modification,
        "allows_commercial": args.allows_commercial,
        "requires_canonical": not args.no_canonical,
        "requires_pixel": args.requires_pixel,
    }
    data = _validated(LicenseCreate, fields)
    with session_scope(_engine(settings)) as session:
        license = create_license(session, data)
    print(f"license {license.code} created")


def _validated(model: type[M], fields: dict[str, object]) -> M:
    """The API's own schema checks the command's input; the first problem is the one line."""
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        _fail(f"{field.replace('_', '-')}: {first['msg']}")


def cmd_partner_add(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.db import session_scope
    from syndication.partners.models import PartnerCreate
    from syndication.partners.service import create_partner, issue_key

    fields = {
        "slug": args.slug,
        "name": args.name,
        "audience": args.audience,
        "licenses": args.license,
        "homepage": args.homepage,
        "contact_email": args.contact_email,
        "sections": args.section or None,
        "sees_embargoed": args.sees_embargoed,
    }
    data = _validated(PartnerCreate, fields)
    with session_scope(_engine(settings)) as session:
        partner = create_partner(session, data)
        issued = issue_key(session, partner.slug)
    print(f"partner {partner.slug} created; its key (shown once):")
    print(issued.key)


def cmd_partner_key(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.db import session_scope
    from syndication.partners.service import issue_key

    with session_scope(_engine(settings)) as session:
        issued = issue_key(session, args.slug)
    print(f"new key for {args.slug} (shown once):")
    print(issued.key)


def cmd_partner_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.db import session_scope, utcnow
    from syndication.partners.service import revoke_key

    with session_scope(_engine(settings)) as session:
        revoke_key(session, args.slug, args.key_prefix, utcnow())
    print(f"key {args.key_prefix} of {args.slug} revoked")


def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.articles.importer import import_feed

    report = import_feed(_engine(settings), args.source, args.license, progress=not args.quiet)
    print(f"{report.created} registered, {report.skipped} already known, {report.failed} refused")
    for problem in report.problems[:20]:
        print(f"  {problem}", file=sys.stderr)
    if report.failed and not report.created and not report.skipped:
        raise SystemExit(1)


def cmd_compliance_check(settings: Settings, args: argparse.Namespace) -> None:
    from syndication.accountability.compliance import check, failures_of
    from syndication.db import utcnow

    results = check(_engine(settings), settings, utcnow(), piece=args.piece, partner=args.partner)
    for target, row in results:
        problems = ", ".join(failures_of(row))
        line = f"{row.verdict:<13} {target.partner_slug} {target.article_slug} {target.page}"
        print(f"{line}  [{problems}]" if problems else line)
    compliant = sum(row.verdict == "compliant" for _, row in results)
    print(f"{len(results)} pages checked, {compliant} compliant")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="syndication", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="migrate the database to head, then serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    serve.set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True, parser_class=_Parser
    )
    up = db.add_parser("upgrade", help="migrate to a revision (default: head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=cmd_db_upgrade)
    down = db.add_parser("downgrade", help="migrate down to a revision ('base' for empty)")
    down.add_argument("revision")
    down.set_defaults(run=cmd_db_downgrade)
    back = db.add_parser("backup", help="write a consistent online copy of the database")
    back.add_argument("path")
    back.set_defaults(run=cmd_db_backup)

    commands.add_parser("demo", help="load the demo data set (idempotent)").set_defaults(
        run=cmd_demo
    )

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True, parser_class=_Parser
    )
    add = staff.add_parser("add", help="create a staff account")
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(run=cmd_staff_add)
    token = staff.add_parser("token", help="print a new staff API token")
    token.add_argument("email")
    token.set_defaults(run=cmd_staff_token)

    license = commands.add_parser("license", help="licenses").add_subparsers(
        dest="license_command", required=True, parser_class=_Parser
    )
    ladd = license.add_parser("add", help="create a license")
    ladd.add_argument("code")
    ladd.add_argument("--name", required=True)
    ladd.add_argument("--credit-line", required=True)
    ladd.add_argument("--url", required=True)
    ladd.add_argument("--contact-email", required=True)
    ladd.add_argument("--summary", default="")
    ladd.add_argument("--terms", default="")
    ladd.add_argument("--min-audience", type=int, default=0)
    ladd.add_argument("--window-days", type=int)
    ladd.add_argument("--credit-placement", choices=["top", "bottom", "both"], default="bottom")
    ladd.add_argument("--allows-modification", action="store_true")
    ladd.add_argument("--allows-commercial", action="store_true")
    ladd.add_argument("--no-canonical", action="store_true", help="no canonical link required")
    ladd.add_argument("--requires-pixel", action="store_true")
    ladd.set_defaults(run=cmd_license_add)

    partner = commands.add_parser("partner", help="partners and keys").add_subparsers(
        dest="partner_command", required=True, parser_class=_Parser
    )
    padd = partner.add_parser("add", help="create a partner and print its first key")
    padd.add_argument("slug")
    padd.add_argument("--name", required=True)
    padd.add_argument("--audience", type=int, required=True)
    padd.add_argument("--license", action="append", required=True, help="repeatable")
    padd.add_argument("--homepage")
    padd.add_argument("--contact-email")
    padd.add_argument("--section", action="append", help="repeatable; none means every section")
    padd.add_argument("--sees-embargoed", action="store_true")
    padd.set_defaults(run=cmd_partner_add)
    pkey = partner.add_parser("key", help="issue a new key (rotation)")
    pkey.add_argument("slug")
    pkey.set_defaults(run=cmd_partner_key)
    prev = partner.add_parser("revoke", help="revoke a key at once")
    prev.add_argument("slug")
    prev.add_argument("key_prefix")
    prev.set_defaults(run=cmd_partner_revoke)

    imp = commands.add_parser("import", help="register the pieces of an RSS or Atom feed")
    imp.add_argument("source", metavar="FILE_OR_URL")
    imp.add_argument("--license", required=True)
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(run=cmd_import)

    compliance = commands.add_parser("compliance", help="partner page checks").add_subparsers(
        dest="compliance_command", required=True, parser_class=_Parser
    )
    ccheck = compliance.add_parser("check", help="fetch partner pages and judge them now")
    ccheck.add_argument("--piece", metavar="SLUG")
    ccheck.add_argument("--partner", metavar="SLUG")
    ccheck.set_defaults(run=cmd_compliance_check)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    run: Callable[[Settings, argparse.Namespace], None] = args.run
    try:
        run(load_settings(), args)
    except SettingError as exc:
        _fail(str(exc))
    except DomainError as exc:
        where = f"{exc.field.replace('_', '-')}: " if exc.field else ""
        _fail(f"{where}{exc.detail}")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        from alembic.util import CommandError
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, CommandError):  # `db upgrade/downgrade REV` of a revision not here
            _fail(str(exc).splitlines()[0])
        if isinstance(exc, SQLAlchemyError | OSError):
            _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        raise


if __name__ == "__main__":
    main()
