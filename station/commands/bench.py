"""`station bench`: the performance figures of DESIGN section 7, and the fault soak."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click

from station.bench import cpu_profile
from station.bench.audit_scale import audit_at_scale
from station.bench.cpu import gang_cpu, station_cpu
from station.bench.cycles import scaling
from station.bench.factory_store import factory_store
from station.bench.figures import Figure, table
from station.bench.rates import DEFAULT, FAST, rate_physics
from station.bench.soak import soak
from station.bench.tokens import token_vs_file
from station.commands.options import json_option
from station.errors import ExitCode


def _figures(
    quick: bool, log: bool, factory_url: str | None, only_factory: bool = False
) -> list[Figure]:
    sections: list[tuple[str, Callable[[Path], list[Figure]]]] = [
        ("cycle vs physics", rate_physics),
        (
            "station CPU per board",
            lambda w: (
                station_cpu(w, 5 if quick else 20, 1 if quick else 5)
                + gang_cpu(w, 8 if quick else 32)
            ),
        ),
        ("scaling", lambda w: scaling(w, (1, 4) if quick else (1, 4, 16, 32), DEFAULT)),
        ("scaling fast", lambda w: scaling(w, (1, 4) if quick else (1, 4, 16, 32), FAST)),
        ("token vs file key", lambda w: token_vs_file(w, 5 if quick else 20)),
        ("audit at scale", lambda w: audit_at_scale(w, 20_000 if quick else 1_000_000)),
    ]
    if factory_url:
        url = factory_url
        sections.append(
            ("factory store", lambda w: factory_store(w, url, 1_000 if quick else 10_000))
        )
    if only_factory:
        sections = sections[-1:] if factory_url else []
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        for name, measure in sections:
            start = time.perf_counter()
            if log:
                click.echo(f"measuring {name} ...", err=True)
            work = Path(tmp) / name.replace(" ", "-")
            work.mkdir()
            figures += measure(work)
            if log:
                click.echo(f"  {time.perf_counter() - start:.1f} s", err=True)
    return figures


@click.command()
@json_option
@click.option("--quick", is_flag=True, help="Small sizes: every figure in under a minute.")
@click.option(
    "--soak",
    "soak_cycles",
    type=click.IntRange(1),
    default=None,
    help="Instead of the figures: N cycles with random faults and station SIGKILLs, then checks.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed of the soak.")
@click.option(
    "--factory-url",
    envvar="STATION_FACTORY_URL",
    default=None,
    help="A PostgreSQL the bench may write to, for the factory store's figures (no password: "
    "libpq reads PGPASSWORD or ~/.pgpass). Without it those figures are left out.",
)
@click.option(
    "--only-factory", is_flag=True, help="Only the factory store's figures (needs --factory-url)."
)
@click.option(
    "--profile-cpu",
    is_flag=True,
    help="Instead of the figures: where the station's CPU goes in unpaced EC/EC cycles (per "
    "step, and the functions with the most CPU of their own).",
)
def bench(
    as_json: bool,
    quick: bool,
    soak_cycles: int | None,
    seed: int,
    factory_url: str | None,
    only_factory: bool,
    profile_cpu: bool,
) -> None:
    """Measure the station against its targets; exit 1 if a target is missed."""
    if profile_cpu:
        with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
            click.echo(cpu_profile.profile_cpu(Path(tmp), 10 if quick else 50))
        return
    if soak_cycles is not None:
        report = soak(soak_cycles, seed, lambda line: click.echo(line, err=True))
        if as_json:
            click.echo(
                json.dumps({**report.__dict__, "failed": dict(report.failed), "ok": report.ok})
            )
        else:
            click.echo("\n".join(report.lines()))
        sys.exit(ExitCode.of(report.ok))
    if only_factory and not factory_url:
        raise click.UsageError("--only-factory needs --factory-url (or STATION_FACTORY_URL)")
    figures = _figures(quick, log=not as_json, factory_url=factory_url, only_factory=only_factory)
    if as_json:
        click.echo(json.dumps({"quick": quick, "figures": [f.as_dict() for f in figures]}))
    else:
        click.echo(table(figures))
    sys.exit(ExitCode.of(all(f.met is not False for f in figures)))


COMMANDS = (bench,)
