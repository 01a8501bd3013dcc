"""`flask ...` commands. Each calls the same service functions as the web pages and the tasks."""
import os

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .errors import PortalError
from .extensions import db

users_cli = AppGroup("users", help="Manage accounts.")
survey_cli = AppGroup("survey", help="Community Survey results.")


def register(app):
    app.cli.add_command(seed_command)
    app.cli.add_command(integrity_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(survey_cli)


@click.command("seed")
@click.option("--demo/--no-demo", default=None,
              help="Also load demo accounts and demo PACT data (default: only in development).")
def seed_command(demo):
    """Load or refresh the seed data (idempotent: running it twice creates nothing new)."""
    from .maintenance import load_seed

    created = load_seed(demo_accounts=demo)
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
        raise click.ClickException(f"{error.field}: {error.message}" if error.field else error.message)
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
