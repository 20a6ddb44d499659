"""`cartmatch serve`: the team's web app on the same database (fastapi and uvicorn are
imported inside the command, so other commands never pay for them)."""

from __future__ import annotations

import logging
import sys

import click

from matcher.cli import App, cli, pass_app


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    help="Send the session cookie over HTTPS only (default: on unless --host is loopback). "
    "Use it behind a reverse proxy that terminates HTTPS.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Processes that match referrals side by side (default: one per core; 0: none, "
    "match on a thread of the server).",
)
@pass_app
def serve(app: App, host: str, port: int, secure_cookies: bool | None, workers: int | None) -> None:
    """Run the web app for the coordinator team (referrals, bulk screening, catalog).

    On first start with no admin it creates the user `admin`: its password is
    $CARTMATCH_ADMIN_PASSWORD, else a new one printed here once. Add users with
    `cartmatch users add NAME --role coordinator|curator|admin`.

    \b
    Example:
      cartmatch serve --port 8000
    """
    import uvicorn

    from matcher.web.app import create_app
    from matcher.web.matching import default_workers
    from matcher.web.team import ensure_first_admin

    path = app.path()
    created = ensure_first_admin(path)
    if created:
        name, password = created
        shown = password or "(from $CARTMATCH_ADMIN_PASSWORD)"
        click.echo(f"created the first admin: user '{name}', password {shown}", err=True)
        if password:
            click.echo(
                "  (shown once: write it down, or change it with `cartmatch users passwd`)",
                err=True,
            )
    secure = secure_cookies if secure_cookies is not None else host not in LOOPBACK
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    workers = default_workers() if workers is None else workers
    web = create_app(path, secure_cookies=secure, match_workers=workers)
    click.echo(f"cartmatch web app on http://{host}:{port}/ (database {path})", err=True)
    # uvicorn's own access log prints paths and queries; ours prints route templates only.
    uvicorn.run(web, host=host, port=port, access_log=False, log_level="info", proxy_headers=True)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


from matcher.cli import users as _users  # noqa: E402, F401  (registers `cartmatch users`)
