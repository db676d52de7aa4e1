"""Running one function over many cells, in this process or in worker processes.

Every stage that works cell by cell (estimate, refute) hands :func:`map_cells` a
module-level function ``work(panel, key, *args)`` and a list of ``(key, args)``;
``key[0]`` is the treatment variant, so a worker loads only that part of the
panel. Results come back in task order, and the numbers do not depend on the
number of workers: every random step derives its seed from the cell, not from
the order of work.
"""
from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.panel.stage import load_panel
from causal.estimate.progress import progress

_PANELS: dict[tuple[str, str | None], pd.DataFrame] = {}
_RAY: dict[str, str] = {}  # {"address": ...} once use_ray() was called


def use_ray(address: str | None) -> None:
    """Run every later :func:`map_cells` with ``jobs > 1`` on a Ray cluster (joblib's Ray backend).

    Parameters
    ----------
    address : str or None
        Ray address (``"auto"``, ``"ray://host:10001"``, ``"local"`` for a local
        Ray started here); None goes back to local worker processes. Needs the
        optional extra ``pip install .[ray]``. The numbers do not change: every
        cell's seeds come from the cell, not from where it runs.
    """
    if address is None:
        _RAY.clear()
        return
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise SystemExit("error: --ray needs the optional Ray extra (pip install '.[ray]')") from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    register_ray()
    _RAY["address"] = address


def cached_panel(processed_dir: Path | str, treatment: str | None = None) -> pd.DataFrame:
    """The panel (or one treatment variant of it), loaded once per process.

    A process that has read the whole panel takes a variant from it; a worker that
    only asks for variants reads only the variant in use from the file (with the
    whole panel's row labels), so it holds about a quarter of the panel, not all of it.
    """
    processed = str(Path(processed_dir).resolve())
    if treatment is None:
        if (processed, None) not in _PANELS:
            _PANELS.clear()
            _PANELS[(processed, None)] = load_panel(Path(processed))
        return _PANELS[(processed, None)]
    key = (processed, treatment)
    if key not in _PANELS:
        for stale in [k for k in _PANELS if k[1] is not None or k[0] != processed]:
            del _PANELS[stale]
        full = _PANELS.get((processed, None))
        _PANELS[key] = (full.loc[full["treatment"] == treatment] if full is not None
                        else load_panel(Path(processed), treatment))
    return _PANELS[key]


def release_workers() -> None:
    """Stop the idle worker processes the maps left running (each holds a variant of the panel and its
    libraries: about 1.3 GB at real scale); the next map starts new ones.

    The workers are killed, not asked to exit: every map has its results by then and a worker
    keeps nothing else, while a worker's own exit (freeing its heap, unloading its libraries)
    kept a command waiting 1.3 s at real scale. Called when a stage is done with its workers
    and when a command ends (otherwise loky's exit handler waits for the same slow exit).
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)  # loky's one reusable executor, if any
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def release_panels() -> None:
    """Forget the cached panels (before handing the work to worker processes)."""
    _PANELS.clear()


def release_memory() -> None:
    """Give freed memory back to the operating system.

    Arrow's allocator (which holds the panel read from Parquet) and glibc's ``malloc``
    keep freed memory for reuse: at real scale the run's main process still held
    0.66 GB after dropping the panel, 0.29 GB once released, while two workers did the
    estimation. Called by a process before it waits on workers and by a worker after
    each task, so that the process tree's peak is what the processes use.
    """
    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # another C library (musl): nothing to trim
            pass


# glibc's mallopt parameters (malloc.h) and the value set in worker processes
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
WORKER_HEAP_THRESHOLD = 1 << 30  # 1 GiB
_HEAP_TUNED: list[bool] = []


def reuse_freed_memory() -> None:
    """Let this process reuse the large blocks it frees instead of mapping fresh memory for each.

    glibc maps every allocation above 32 MB on its own and unmaps it when freed, so each
    large temporary of a task (EconML's copies of the design matrix, LightGBM's training
    rows, a block of bootstrap draws) is faulted in and zeroed by the kernel again: in the
    largest task at ten times real scale (two cells on 1.58 M rows) the kernel's share was
    31.3 of 127.1 CPU s. With allocations up to 1 GiB served from the heap, and the heap's
    free top kept until the task ends, the same task took 118.3 CPU s (14.0 s in the
    kernel) and peaked 0.47 GB higher (5.85 GB); :func:`release_memory` still hands back
    all free memory after each task. Only the map's worker processes call it (the run's
    main process keeps glibc's defaults). No number changes: only where memory comes from.
    A no-op on other C libraries.
    """
    if _HEAP_TUNED or not sys.platform.startswith("linux"):
        return
    import ctypes

    _HEAP_TUNED.append(True)
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, WORKER_HEAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, WORKER_HEAP_THRESHOLD)
    except (OSError, AttributeError):  # another C library (musl): keep its defaults
        pass


def _run_in_worker(processed_dir: str, work: Callable, key: tuple, args: tuple):
    """:func:`_run_one` in a worker process of the map, with :func:`reuse_freed_memory`."""
    reuse_freed_memory()
    return _run_one(processed_dir, work, key, args, 1)


def _run_one(processed_dir: str, work: Callable, key: tuple, args: tuple, threads: int | None = 1):
    """One task with its native thread pools (OpenMP, BLAS) limited to ``threads``.

    One thread per task everywhere: on a shared or busy machine the gradient
    boosting's OpenMP threads otherwise spin against other processes (profiled:
    a 25,000-row DML fit took 178 s with two OpenMP threads on a loaded 2-core
    machine, 15 s with one). Parallelism comes from ``--jobs``.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = work(cached_panel(processed_dir, key[0]), key, *args)
    release_memory()
    return result


def map_cells(processed_dir: Path, work: Callable, tasks: list[tuple[tuple, tuple]], jobs: int,
              desc: str, cost: Callable[[tuple], float] | None = None) -> list:
    """``work(panel, key, *args)`` for each ``(key, args)`` in ``tasks``, results in task order.

    Parameters
    ----------
    processed_dir : Path
        Folder with ``panel.parquet``.
    work : callable
        A module-level function (it is sent to worker processes).
    tasks : list of (key, args)
        ``key`` starts with the treatment variant.
    jobs : int
        Worker processes; 1 runs everything in this process.
    desc : str
        Label of the progress bar (no customer data).
    cost : callable, optional
        Expected cost of a task from its key: with ``jobs > 1`` the costliest tasks are
        handed out first (longest-processing-time order), so that no worker is left with
        a long task at the end while the other waits; the results still come back in task
        order, and the numbers do not depend on it.
    """
    processed = str(Path(processed_dir).resolve())
    if jobs <= 1 or len(tasks) <= 1:
        return [_run_one(processed, work, key, args, 1) for key, args in progress(tasks, desc)]
    order = list(range(len(tasks)))
    if cost is not None:
        order.sort(key=lambda i: -cost(tasks[i][0]))  # stable: equal costs keep their task order
    in_order = _map_parallel(processed, work, [tasks[i] for i in order], jobs, desc)
    results = [None] * len(tasks)
    for position, result in zip(order, in_order):
        results[position] = result
    return results


def _map_parallel(processed: str, work: Callable, tasks: list[tuple[tuple, tuple]], jobs: int, desc: str) -> list:
    """:func:`map_cells` over worker processes (or Ray), results in the order of ``tasks``."""
    from joblib import Parallel, delayed

    release_panels()
    release_memory()  # this process only waits now: what it freed is the workers' to use
    # loky says this when it replaces an idle worker between stages; results are unaffected.
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given", category=UserWarning)
    if _RAY:  # the same map on a Ray cluster; results still come back in task order
        from joblib import parallel_config

        with parallel_config(backend="ray", n_jobs=jobs):
            return list(progress(Parallel()(delayed(_run_in_worker)(processed, work, key, args)
                                            for key, args in tasks), desc, total=len(tasks)))
    runner = Parallel(n_jobs=jobs, backend="loky", return_as="generator", batch_size=1)
    generator = runner(delayed(_run_in_worker)(processed, work, key, args) for key, args in tasks)
    return list(progress(generator, desc, total=len(tasks)))
