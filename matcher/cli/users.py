"""`cartmatch users`: the web app's team (add, list, new password)."""

from __future__ import annotations

import os

import click

from matcher.cli import App, cli, pass_app

PASSWORD_ENV = "CARTMATCH_PASSWORD"


@cli.group("users")
def users_group() -> None:
    """Users of the web app (`cartmatch serve`) and their roles.

    \b
    Example:
      cartmatch users add mei --role coordinator
    """


def _password() -> str:
    """$CARTMATCH_PASSWORD, else asked for twice without echo."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["coordinator", "curator", "admin"]),
    default="coordinator",
    show_default=True,
    help="coordinator: referrals, bulk, catalog; curator: also refreshes the catalog; "
    "admin: also users.",
)
@pass_app
def add(app: App, name: str, role: str) -> None:
    """Add a user; the password comes from $CARTMATCH_PASSWORD or is asked for.

    \b
    Example:
      cartmatch users add mei --role coordinator
    """
    from matcher.storage.users import add_user
    from matcher.web.passwords import hash_password

    user = add_user(app.path(), name, role, hash_password(_password()), by=_operator())
    click.echo(f"added user '{user.name}' ({user.role})")


@users_group.command("list")
@pass_app
def list_users(app: App) -> None:
    """The users and their roles.

    \b
    Example:
      cartmatch users list
    """
    from matcher.storage.users import Users

    with Users.at(app.path()) as users:
        for user in users.all():
            click.echo(f"{user.name}\t{user.role}" + ("\tdisabled" if user.disabled else ""))


@users_group.command("passwd")
@click.argument("name")
@pass_app
def passwd(app: App, name: str) -> None:
    """Give a user a new password (their open sessions end); from $CARTMATCH_PASSWORD or asked
    for twice.

    \b
    Example:
      cartmatch users passwd mei
    """
    from matcher.storage.users import set_password
    from matcher.web.passwords import hash_password

    set_password(app.path(), name, hash_password(_password()), by=_operator())
    click.echo(f"new password set for '{name}'")


def _operator() -> str:
    """Who ran the command, for the audit log: the system user."""
    return f"cli:{os.environ.get('USER') or os.environ.get('USERNAME') or 'unknown'}"
