"""The coordinator team's web app (`cartmatch serve`): FastAPI pages over the same engine and
database as the command line. Imported only by `cartmatch serve` and the tests, never by the
single look-ups, so fastapi and jinja2 cost nothing there."""
