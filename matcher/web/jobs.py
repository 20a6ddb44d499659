"""Bulk screening jobs of the web app: an uploaded file screened on a worker thread (one job at
a time: screening is CPU-bound), with its progress, its result files in a private folder, and
the folder removed after JOB_HOURS or when the app stops."""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from matcher.bulk.run import Settings, run_screen
from matcher.errors import CartmatchError
from matcher.storage.users import log_change
from matcher.web.uploads import private_dir, without_folder

#: Hours a job's files are kept (they hold patient data): then removed.
JOB_HOURS = 12
#: Rows screened between progress reports.
PROGRESS_ROWS = 500
OUTPUTS = {"csv": ".csv", "xlsx": ".xlsx"}


@dataclass
class Job:
    """One upload and what became of it."""

    id: str
    owner: str
    folder: Path
    input: Path
    suffix: str
    started: float = field(default_factory=time.time)
    state: str = "queued"
    """queued, running, done or failed."""
    rows: int = 0
    phase: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    def file(self, kind: str) -> Path:
        """results (a row per option), wide (the call list) or errors."""
        names = {
            "results": f"results{self.suffix}",
            "wide": f"call-list{self.suffix}",
            "errors": "errors.csv",
        }
        return self.folder / "out" / names[kind]


class Jobs:
    """The app's bulk jobs, run one at a time on a worker thread."""

    def __init__(self, db_path: Path, catalog: Any) -> None:
        self.db_path, self._catalog = db_path, catalog
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cartmatch-bulk")

    def start(self, owner: str, upload_to: Any, output: str) -> Job:
        """Save the upload privately (via `upload_to(folder)`) and queue its screening."""
        self.expire()
        folder = private_dir("cartmatch-bulk-")
        try:
            saved = upload_to(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        (folder / "out").mkdir(mode=0o700)
        job = Job(secrets.token_urlsafe(12), owner, folder, saved, OUTPUTS.get(output, ".csv"))
        with self._lock:
            self._jobs[job.id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str, user: Any) -> Job | None:
        """A job its owner (or an admin) may see; None for anyone else."""
        job = self._jobs.get(job_id)
        if job is None or (job.owner != user.name and not user.may("admin")):
            return None
        return job

    def of(self, user: Any) -> list[Job]:
        jobs = [j for j in self._jobs.values() if j.owner == user.name]
        return sorted(jobs, key=lambda j: -j.started)

    def _run(self, job: Job) -> None:
        job.state = "running"
        try:
            self._screen(job)
            job.state = "done"
        except CartmatchError as error:
            job.problem, job.state = without_folder(str(error), job.folder), "failed"
        except Exception as error:  # a bug must not leave the job "running" for ever
            job.problem, job.state = f"screening stopped: {type(error).__name__}", "failed"

    def _screen(self, job: Job) -> None:
        catalog = self._catalog()
        base = Settings(today=date.today(), chunk_rows=PROGRESS_ROWS)

        def progress(rows: int, _seconds: float) -> None:
            job.rows = rows

        # The long results are saved as a run (cases, call-backs); the call list is the same
        # referrals in one row each, not saved twice.
        job.phase = "results"
        summary = run_screen(
            job.input, job.file("results"), job.file("errors"), catalog, base,
            db_path=self.db_path, progress=progress,
        )  # fmt: skip
        job.rows, job.phase = summary.rows_in, "wide"
        wide = Settings(today=base.today, chunk_rows=PROGRESS_ROWS, save=False, layout="wide")
        spare = job.folder / "out" / "wide-errors.csv"
        run_screen(job.input, job.file("wide"), spare, catalog, wide, progress=None)
        spare.unlink(missing_ok=True)
        job.summary = {k: v for k, v in summary.as_dict().items() if k in SHOWN}
        job.phase = ""
        log_change(
            self.db_path, job.owner, "bulk.screen", f"run {summary.run_id}",
            rows_in=summary.rows_in, screened=summary.screened, rejected=summary.rejected,
        )  # fmt: skip

    def expire(self, older_than_s: float = JOB_HOURS * 3600) -> None:
        """Remove the files of jobs older than the limit (all of them with 0)."""
        now = time.time()
        with self._lock:
            for job_id, job in list(self._jobs.items()):
                if now - job.started >= older_than_s and job.state in ("done", "failed"):
                    shutil.rmtree(job.folder, ignore_errors=True)
                    del self._jobs[job_id]

    def close(self) -> None:
        """At shutdown: finish the running job, then remove every job's files."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.expire(0)


#: What the job page shows of a run's summary (counts; no patient data, no paths).
SHOWN = (
    "rows_in",
    "screened",
    "rejected",
    "with_options",
    "without_options",
    "unrecognised",
    "option_rows",
    "run_id",
    "seconds",
    "catalog_version",
    "notes",
    "statuses",
)
