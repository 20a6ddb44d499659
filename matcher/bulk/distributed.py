"""`screen --engine dask`: chunks screened as Dask tasks, a few in flight, results taken in
input order; on a cluster on this machine, or on a scheduler given by address."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from matcher.bulk.readers import Chunk
from matcher.bulk.screening import screen_chunk
from matcher.core.catalog import Catalog
from matcher.errors import CartmatchError


def on_dask(
    chunks: Iterator[Chunk], catalog: Catalog, scheduler: str | None, options: dict[str, Any]
) -> Iterator[tuple[Chunk, tuple[Any, dict[int, str]]]]:
    """Each chunk a Dask task of screen_chunk; a few in flight, results taken in order."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise CartmatchError("--engine dask needs Dask: pip install 'cartmatch[dask]'") from None
    with ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(_client(Client, scheduler))
        else:
            cluster = stack.enter_context(LocalCluster(processes=False, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        remote = client.scatter(catalog, broadcast=True)
        window: deque[tuple[Chunk, Any]] = deque()
        for chunk in chunks:
            task = client.submit(screen_chunk, chunk.frame, remote, pure=False, **options)
            window.append((chunk, task))
            if len(window) > 2 * workers:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()


#: Seconds to wait for a Dask scheduler given by address before saying it cannot be reached.
SCHEDULER_TIMEOUT_S = 10


def _client(client: Any, address: str) -> Any:
    try:
        return client(address, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as error:
        raise CartmatchError(
            f"--scheduler {address}: no Dask scheduler answered within {SCHEDULER_TIMEOUT_S} s "
            f"({type(error).__name__}); check the address and that the scheduler is running, "
            "or leave --scheduler out to screen on this machine"
        ) from None
