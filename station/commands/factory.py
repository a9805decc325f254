"""`station factory ...`: push this station's events to the factory store, and the
supervisor's fleet views (DESIGN section 9).

The store's URL comes from ``[factory] url`` of the home, or ``--url`` / STATION_FACTORY_URL
for a supervisor without a station home; the password never: libpq reads PGPASSWORD,
~/.pgpass or PGPASSFILE.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import psycopg

from station.commands.loaders import config_of, home_of, open_audit_signer
from station.commands.options import json_option
from station.config import load_config
from station.errors import ConfigError
from station.factory.export import export_fleet
from station.factory.local_chain import LocalChain
from station.factory.migrate import migrate as apply_migrations
from station.factory.report import fleet_report
from station.factory.store import Store
from station.factory.supervise import conflicts as list_conflicts
from station.factory.supervise import resolve as resolve_station
from station.factory.supervise import settle_conflict, stations
from station.factory.sync import DEFAULT_BATCH
from station.factory.sync import sync as push
from station.factory.views import find_board
from station.factory.views import verify as verify_chains
from station.factory_config import DEFAULT_SHIFTS

F = TypeVar("F", bound=Callable[..., Any])


def url_option(f: F) -> F:
    return click.option(
        "--url",
        envvar="STATION_FACTORY_URL",
        default=None,
        help="The store's libpq URL, without a password (env STATION_FACTORY_URL; default: "
        "[factory] url of the station home).",
    )(f)


def _url(ctx: click.Context, url: str | None) -> tuple[str, int]:
    if url:
        params = psycopg.conninfo.conninfo_to_dict(url)
        if params.get("password"):
            raise ConfigError(
                "--url holds a password: remove it and give the password through PGPASSWORD, "
                "~/.pgpass or PGPASSFILE"
            )
        return url, 3
    config = config_of(ctx)
    if not config.factory.enabled:
        raise ConfigError(
            f"no factory store: set [factory] url in {config.home.config}, or give --url"
        )
    return config.factory.url, config.factory.connect_timeout


def open_store(ctx: click.Context, url: str | None) -> Store:
    target, timeout = _url(ctx, url)
    return Store.connect(target, timeout=timeout)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, default=str))


@click.group()
def factory() -> None:
    """The factory store: sync this station, and the fleet views."""


@factory.command()
@url_option
@click.pass_context
def migrate(ctx: click.Context, url: str | None) -> None:
    """Create or update the store's schema (a supervisor's role; stations cannot)."""
    with open_store(ctx, url) as store:
        applied = store.call(lambda: apply_migrations(store.conn))
    click.echo(f"applied migrations {applied}" if applied else "the store's schema is current")


@factory.command()
@click.option(
    "--batch",
    type=click.IntRange(1, 50_000),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Events per request.",
)
@json_option
@click.pass_context
def sync(ctx: click.Context, batch: int, as_json: bool) -> None:
    """Push this station's events the store lacks; exit 1 if the store marked it diverged."""
    config = config_of(ctx)
    if not config.factory.enabled:
        raise ConfigError(f"no factory store: set [factory] url in {config.home.config}")
    with (
        Store.connect(config.factory.url, timeout=config.factory.connect_timeout) as store,
        LocalChain(config.home.audit_db) as chain,
    ):
        report = push(store, chain, config.station.id, config.factory.line, batch=batch)
    head = report.head
    if as_json:
        _echo_json(
            {
                "station": report.station_id,
                "pushed": report.pushed,
                "local_seq": report.local_seq,
                "store_seq": head.seq,
                "diverged_seq": head.diverged_seq,
                "diverged_reason": head.diverged_reason,
            }
        )
    elif report.diverged:
        click.echo(
            f"DIVERGED at seq {head.diverged_seq}: {head.diverged_reason}. The store accepts "
            "nothing more from this station: call the supervisor."
        )
    else:
        click.echo(f"synced: pushed {report.pushed} events; the store holds up to seq {head.seq}")
    sys.exit(1 if report.diverged else 0)


@factory.command()
@url_option
@json_option
@click.pass_context
def status(ctx: click.Context, url: str | None, as_json: bool) -> None:
    """Every station the store knows: line, head, last seen, diverged."""
    with open_store(ctx, url) as store:
        rows = stations(store)
    for row in rows:
        if as_json:
            _echo_json(row.as_dict())
            continue
        state = (
            f"DIVERGED at seq {row.diverged_seq}: {row.diverged_reason}"
            if row.diverged_seq is not None
            else "ok"
        )
        seen = f"{row.last_seen:%Y-%m-%d %H:%M}" if row.last_seen else "never"
        click.echo(f"{row.line:<8} {row.station_id:<16} seq {row.head_seq:>8}  {seen}  {state}")


@factory.command()
@url_option
@click.option("--all", "include_resolved", is_flag=True, help="Resolved conflicts too.")
@json_option
@click.pass_context
def conflicts(ctx: click.Context, url: str | None, include_resolved: bool, as_json: bool) -> None:
    """Keys, boards and serials held by two stations, with what to do; exit 1 if any."""
    with open_store(ctx, url) as store:
        found = list_conflicts(store, include_resolved=include_resolved)
    for c in found:
        if as_json:
            _echo_json(c.as_dict())
            continue
        what = {"key": f"key {c.spki_sha256}", "serial": f"serial {c.first_serial}"}.get(
            c.kind, f"board {c.board_uid}"
        )
        click.echo(
            f"CONFLICT {c.id} ({c.found_by}, {c.found_at:%Y-%m-%d %H:%M}): {what}: "
            f"{c.first_station} board {c.first_board} cert {c.first_serial or '-'} / "
            f"{c.second_station} board {c.second_board} cert {c.second_serial or '-'}\n"
            f"  what to do: {c.advice}"
        )
    if not found and not as_json:
        click.echo("no conflicts")
    sys.exit(1 if found else 0)


@factory.command("settle")
@click.argument("conflict_id", type=int)
@click.option("--note", required=True, help="What was done (which certificate was revoked).")
@url_option
@click.pass_context
def settle(ctx: click.Context, conflict_id: int, note: str, url: str | None) -> None:
    """Mark a conflict resolved, with what was done; `conflicts --all` still lists it."""
    with open_store(ctx, url) as store:
        settle_conflict(store, conflict_id, note)
    click.echo(f"conflict {conflict_id} settled: {note}")


@factory.command()
@click.argument("station_id")
@click.option("--note", required=True, help="Why the station's history may be accepted again.")
@url_option
@click.pass_context
def resolve(ctx: click.Context, station_id: str, note: str, url: str | None) -> None:
    """Accept a diverged station again: its stored events from the first bad seq on are set
    aside (kept in archived_events with the note), and it pushes from there."""
    with open_store(ctx, url) as store:
        done = resolve_station(store, station_id, note)
    click.echo(
        f"resolved {station_id}: {done.archived} stored events set aside; its next sync "
        f"pushes from seq {done.head_seq + 1}"
    )


@factory.command()
@url_option
@json_option
@click.pass_context
def verify(ctx: click.Context, url: str | None, as_json: bool) -> None:
    """Every station's chain in the store, checked by the server; exit 1 naming the first
    break (or a diverged station)."""
    with open_store(ctx, url) as store:
        checks = verify_chains(store)
    for check in checks:
        click.echo(json.dumps(check.as_dict()) if as_json else check.describe())
    sys.exit(0 if all(c.ok for c in checks) else 1)


@factory.command()
@click.argument("board_uid")
@url_option
@json_option
@click.pass_context
def find(ctx: click.Context, board_uid: str, url: str | None, as_json: bool) -> None:
    """Every certificate and event of a board, on any station; exit 1 if none."""
    with open_store(ctx, url) as store:
        found = find_board(store, board_uid)
    if as_json:
        _echo_json(found)
    else:
        click.echo(f"board {board_uid}")
        for c in found["certificates"]:
            click.echo(f"  certificate {c['serial']} on {c['station']}: {c['status']}")
        for e in found["events"]:
            reason = f" {e['code']}: {e['text']}" if e["code"] else ""
            click.echo(f"  {e['station']} {e['seq']:>6} {e['at']} {e['kind']}{reason}")
    sys.exit(0 if found["certificates"] or found["events"] else 1)


@factory.command()
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="A new or empty folder for the export.")  # fmt: skip
@url_option
@click.pass_context
def export(ctx: click.Context, out_dir: Path, url: str | None) -> None:
    """The whole fleet's events, certificates and conflicts, with every station's head in a
    manifest signed by this home's audit-signing certificate."""
    config = config_of(ctx)
    signer, _ = open_audit_signer(config, datetime.now(UTC))
    with open_store(ctx, url) as store:
        manifest = export_fleet(store, out_dir, signer, datetime.now(UTC))
    events = next(f["rows"] for f in manifest["files"] if f["name"] == "events.jsonl")
    click.echo(
        f"exported {events} events of {len(manifest['stations'])} stations to {out_dir} "
        "(manifest.json signed: manifest.json.p7s)"
    )


def _when(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (2026-03-01T06:00)") from e
    return when if when.tzinfo else when.astimezone()  # local time unless a zone is given


@factory.command()
@click.option("--since", help="ISO 8601 start (local time unless a zone is given).")
@click.option("--until", help="ISO 8601 end, excluded (default: now).")
@click.option("--expiring-days", type=click.IntRange(0), default=60, show_default=True,
              help="List certificates on boards that expire within this many days.")  # fmt: skip
@url_option
@json_option
@click.pass_context
def report(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    expiring_days: int,
    url: str | None,
    as_json: bool,
) -> None:
    """Yield by line, station, operator and shift; failure reasons; cycle times; expiring."""
    window = (
        _when(since, datetime(1970, 1, 1, tzinfo=UTC)),
        _when(until, datetime.now(UTC)),
    )
    home = home_of(ctx)  # the shifts of the home's [factory], if there is a home
    plan = load_config(home).factory.shifts if home.config.is_file() else DEFAULT_SHIFTS
    with open_store(ctx, url) as store:
        figures = fleet_report(store, *window, expiring_days=expiring_days, shifts=plan)
    if as_json:
        _echo_json(figures)
        return
    for title, key, name in (
        ("line", "by_line", "line"),
        ("station", "by_station", "station_id"),
        ("operator", "by_operator", "operator"),
        ("shift", "by_shift", "shift"),
    ):
        for g in figures[key]:
            share = "-" if g["yield"] is None else f"{g['yield']:.1%}"
            click.echo(f"{title:<9} {g[name]:<20} passed {g['passed']:>6}  "
                       f"failed {g['failed']:>5}  yield {share}")  # fmt: skip
    for r in figures["failure_reasons"]:
        click.echo(f"failure   {r['code']:<40} {r['count']:>6}")
    cycle = figures["cycle_seconds"]
    if cycle["cycles"]:
        click.echo(f"cycle     median {cycle['median']:.1f} s  p95 {cycle['p95']:.1f} s  "
                   f"({cycle['cycles']} cycles)")  # fmt: skip
    for c in figures["expiring"]:
        click.echo(
            f"expiring  {c['not_after'][:10]}  {c['serial']}  {c['board']} on {c['station']}"
        )


COMMANDS = (factory,)
