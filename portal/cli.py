"""`flask ...` commands. Each calls the same service functions as the web pages and the tasks."""
import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .errors import PortalError
from .extensions import db

users_cli = AppGroup("users", help="Manage accounts.")
survey_cli = AppGroup("survey", help="Community Survey results.")
crime_cli = AppGroup("crime", help="Police recorded crime from police.uk.")
indicators_cli = AppGroup("indicators", help="Delivery-plan indicators.")


def register(app):
    app.cli.add_command(seed_command)
    app.cli.add_command(integrity_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(survey_cli)
    app.cli.add_command(crime_cli)
    app.cli.add_command(indicators_cli)


@click.command("seed")
@click.option("--demo/--no-demo", default=None,
              help="Also load demo accounts and demo PACT data (default: only in development). "
                   "--no-demo removes demo accounts a development seed left.")
def seed_command(demo):
    """Insert the seed data that is missing; rows already there (and an admin's edits to them) stay as they are."""
    from .maintenance import load_seed

    try:
        created = load_seed(demo_accounts=demo)
    except PortalError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    for what, count in created.items():
        click.echo(f"{what:<24} {count:>6} new")


@click.command("integrity")
def integrity_command():
    """Count the rows in every table (the data integrity check)."""
    from .maintenance import count_rows

    for table, count in count_rows().items():
        click.echo(f"{table:<32} {count:>9}")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["admin", "officer", "partner", "analyst"]), required=True)
@click.option("--organisation", default=None, help="Partner organisation name")
@click.option("--area", "area_keys", multiple=True, help="Area key (north, central, south); repeatable")
def create_user(email, display_name, role, organisation, area_keys):
    """Create an account. The password comes from PORTAL_NEW_PASSWORD or a prompt, never the command line."""
    from .partners.models import Organisation
    from .people.services import save_user
    from .places.models import Locality

    password = os.environ.get("PORTAL_NEW_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    org = None
    if organisation:
        org = db.session.execute(select(Organisation).where(Organisation.name == organisation)).scalar_one_or_none()
        if org is None:
            raise click.BadParameter(f"no partner organisation called '{organisation}'", param_hint="--organisation")
    areas = db.session.execute(select(Locality).where(Locality.key.in_(area_keys))).scalars().all()
    missing = set(area_keys) - {a.key for a in areas}
    if missing:
        raise click.BadParameter(f"unknown area(s): {', '.join(sorted(missing))}", param_hint="--area")
    try:
        user = save_user(None, email=email, display_name=display_name, role=role, organisation=org,
                         areas=areas, password=password)
    except PortalError as error:
        raise click.ClickException(f"{error.field}: {error.message}" if error.field else error.message) from error
    click.echo(f"Created {user.email} ({user.role}).")
    current_app.logger.info("user %s created from the CLI", user.email)


@survey_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_survey(paths):
    """Import survey CSV files (survey,period,area,topic,rank,percentage). A bad file is refused whole."""
    from pathlib import Path

    from .concerns.survey import import_results
    from .errors import ImportRejected

    failed = False
    for path in paths:
        try:
            result = import_results(Path(path).name, Path(path).read_bytes())
        except ImportRejected as error:
            failed = True
            click.echo(f"Refused, nothing imported: {error.message}", err=True)
        else:
            click.echo(f"{result.file}: {result.rows} results for {', '.join(result.periods)}"
                       + (f" (replaced {result.replaced})" if result.replaced else ""))
    if failed:
        raise SystemExit(1)


@crime_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rollup/--no-rollup", default=True, help="Recompute the crime indicators for the months imported.")
def import_crime(paths, rollup):
    """Import police.uk street-level CSV files or zips of them. A bad file is refused whole."""
    from .crime.services import import_paths
    from .indicators.engine import rollup as run_rollup

    bars = {}

    def progress(source, done, total):
        bar = bars.get(source.name)
        if bar is None:
            bar = bars[source.name] = click.progressbar(length=total, label=source.name, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    runs, errors = import_paths(paths, progress=progress)
    for run in runs:
        click.echo(f"{run.file_name}: {run.rows:,} rows for {run.force}, {run.month:%Y-%m}; "
                   f"{run.matched:,} in Shropshire, {run.unmatched:,} matched no locality"
                   + (f"; replaced {run.replaced:,}" if run.replaced else ""))
        if run.quality_note:
            click.echo(f"  Data quality: {run.quality_note}")
    for error in errors:
        click.echo(f"Refused, nothing imported: {error.message}", err=True)
    months = sorted({run.month for run in runs})
    if rollup and months:
        result = run_rollup(months[0], months[-1], sources=("police_crime",))
        click.echo(f"Rolled up {result['police_crime']:,} indicator values.")
    if errors:
        raise SystemExit(1)


@indicators_cli.command("rollup")
@click.option("--from", "date_from", help="First month, YYYY-MM")
@click.option("--to", "date_to", help="Last month, YYYY-MM")
def rollup_indicators(date_from, date_to):
    """Recompute indicator values synchronously (the same code as the Celery task)."""
    from datetime import date

    from .indicators.engine import rollup

    def month(text, name):
        if not text:
            return None
        try:
            return date.fromisoformat(f"{text}-01")
        except ValueError:
            raise click.BadParameter(f"'{text}' is not a month like 2018-10", param_hint=name) from None

    result = rollup(month(date_from, "--from"), month(date_to, "--to"))
    for source, rows in result.items():
        click.echo(f"{source:<14} {rows:>8,} values")
