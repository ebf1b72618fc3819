"""Execute the chapters that miss the cache in parallel, over IPC kernels, and prune the cache.

Before Sphinx reads the notebooks one by one, those that miss the cache are executed
``book_execute_workers`` (default 2) at a time, so a cold build takes the time of the slowest
chain, not the sum of all chapters.  They start longest first (:func:`execution_order`: the
cache's last execution time of each notebook when it has one, :data:`TYPICAL_SECONDS`
otherwise), so that no worker is left with a long chapter at the end, and the notebooks that
read the others' results (the ledger, which imports :mod:`adamdyn_book.ledger`) start after the
long chapters, when only a few short ones are left to run beside them: by then the results
they read are stored (:mod:`adamdyn.memo`), so they neither recompute them nor wait on the
memo's lock for them, and the other worker is not idle while they run.  Their kernels talk to the build over IPC (Unix sockets),
not plain TCP on localhost, so they neither expose the code on a port nor log ipykernel's
warning about unencrypted TCP into the build log.  With ``book_kernel_zygote`` (default True)
the kernels are forked from a zygote that has imported the modules every chapter imports
(:mod:`adamdyn_book.zygote`), which saves each chapter the start of an interpreter and its
first cell's imports (a build with no cache at all starts the zygote as soon as the builder
exists, so that its imports run while Sphinx starts); any failure there falls back to normal
kernels.  Sphinx does not wait for
the whole batch: it reads the documents in the order their notebooks are expected to finish
(:func:`read_order`), and the read of each waits only for its own notebook, so the reading
fills the cores the last chapters leave idle.  After the build the cache keeps the
``book_cache_keep`` (default 3) most recently used entries of each notebook.
"""

from __future__ import annotations

from pathlib import Path

from ..kernels import ipc_folder, ipc_kernel_config
from .cache_keys import _on_source_read
from .libgraph import code_of, imported_names, is_notebook

__all__ = ["READS_RESULTS", "STARTS_FIRST", "TYPICAL_SECONDS", "estimated_seconds", "execution_order", "read_order"]

#: A notebook that imports this package reads the results of the other chapters: it runs last.
READS_RESULTS = "adamdyn_book.ledger"

#: Execution seconds of the chapters in a cold build (2 workers, the shared 2-core machine),
#: for the order of a build whose cache has no time of its own yet; a notebook named here or
#: not, the cache's last time wins.  Only the order depends on them, never a result.
TYPICAL_SECONDS = {
    "chapters/vector_field": 35, "chapters/flat": 31, "chapters/ode": 27,
    "chapters/networks_figure1": 21, "chapters/networks_noise": 18, "chapters/networks_limits": 17,
    "chapters/valleys": 15, "chapters/networks_k_adam": 15, "chapters/k_adam": 14,
    "chapters/networks_stable_region": 13, "chapters/networks_convex": 12, "chapters/noise": 12,
    "chapters/networks_eos": 12, "chapters/saddle": 11, "chapters/networks_saddles": 11,
    "chapters/ledger": 10, "chapters/preliminaries": 8, "chapters/conditions_map": 7,
    "chapters/stable_region": 7, "chapters/explorer": 3, "chapters/reference_implementations": 1,
}


def estimated_seconds(seconds: dict) -> dict:
    """``{name: seconds}`` with each unknown time (None) replaced by :data:`TYPICAL_SECONDS`,
    else by the median of the known ones (10 s when none is known)."""
    known = sorted(v for v in seconds.values() if v is not None)
    default = known[len(known) // 2] if known else 10.0
    return {name: value if value is not None else TYPICAL_SECONDS.get(name, default)
            for name, value in seconds.items()}


#: Chapters started before all others: flat's first runs compile the batched sweep kernel that
#: ode, k_adam, valleys, saddle and others share (about 15 s of CPU, cold).  Started with any of
#: them, both would compile it at once; started first, the others load it from numba's cache.
STARTS_FIRST = ("chapters/flat",)


def execution_order(seconds: dict, readers=(), first=STARTS_FIRST) -> list:
    """Names sorted longest first by :func:`estimated_seconds`, those in ``first`` before all,
    and those in ``readers`` (longest first among themselves) just before the shortest tail of
    the others that takes at least as long as they do together, made of chapters no longer than
    that; last if there is no such tail.  The tail is measured in :data:`TYPICAL_SECONDS` where
    a chapter has one (times of a cold build, whatever the cache's last run took).

    Longest first is the classic list-scheduling rule: with ``k`` workers the makespan is at
    most 4/3 of the best possible, and at the end only short jobs are left to balance.  The
    readers start when only such a tail of short chapters is left: every longer chapter, whose
    results they may read, has started before them, and the short ones keep the other worker
    busy while they run (started last, the ledger ran alone at the end of the build).
    """
    estimate = estimated_seconds(seconds)
    order = sorted(seconds, key=lambda name: (name not in first, -estimate[name], name))
    others = [name for name in order if name not in readers]
    ahead = [name for name in order if name in readers]
    # the tail is chosen by cold-build times: a chapter whose last run read its results from the
    # memo was short then, but computes them again after an edit of the library
    cold = {name: TYPICAL_SECONDS.get(name, estimate[name]) for name in seconds}
    need = sum(cold[name] for name in ahead)
    cut, tail = len(others), 0.0
    while cut > 0 and tail < need and others[cut - 1] not in first and cold[others[cut - 1]] <= need:
        cut -= 1
        tail += cold[others[cut]]
    if tail < need:
        cut = len(others)
    return others[:cut] + ahead + others[cut:]


def read_order(docnames, order, seconds: dict, workers: int) -> list:
    """``docnames`` in the order Sphinx should read them while ``order`` executes.

    The documents that execute nothing come first, in their given order; then the executed ones
    by their expected finishing time when ``workers`` workers take ``order`` in turn (each job
    goes to the worker free first, taking ``seconds[name]``), ties in ``order``'s order.
    """
    free = [0.0] * max(1, int(workers))
    finish = {}
    for name in order:
        worker = min(range(len(free)), key=free.__getitem__)
        free[worker] += seconds[name]
        finish[name] = free[worker]
    rank = {name: i for i, name in enumerate(order)}
    rest = [name for name in docnames if name not in finish]
    return rest + sorted((name for name in docnames if name in finish), key=lambda n: (finish[n], rank[n]))


def _last_seconds(cache) -> dict:
    """``{uri: execution seconds}`` of the most recent cache entry of each notebook that has one."""
    out, when = {}, {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None and (record.uri not in when or record.created > when[record.uri]):
            out[record.uri], when[record.uri] = float(seconds), record.created
    return out


def _on_env_before_read_docs(app, env, docnames):
    """Start executing the notebooks about to be read that miss the cache, ``book_execute_workers``
    at a time, and reorder ``docnames`` so that Sphinx reads them as they finish (:class:`_Batch`
    puts each in the cache just before its read).

    Speed and the kernels' transport (IPC) are at stake: a notebook whose key we do not
    reproduce exactly, or that fails, is left to myst-nb, which executes it (again, over TCP) and
    reports its error as usual.
    """
    config = getattr(env, "mystnb_config", None)
    workers = int(app.config.book_execute_workers or 0)
    if config is None or config.execution_mode != "cache" or workers < 1:
        return
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    cache = get_cache(config.execution_cache_path)
    jobs, readers = {}, set()
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if not is_notebook(text):
            continue
        source = [text]
        _on_source_read(app, docname, source)  # the same hidden stamp cell as the real read
        reader = create_nb_reader(str(path), env.myst_config, config, source[0])
        if reader is None:
            continue
        nb = reader.read(source[0])
        if config.metadata_key in nb.metadata:
            continue  # per-notebook execution options: leave it to myst-nb
        try:
            cache.match_cache_notebook(nb)
            continue
        except KeyError:
            jobs[docname] = (path, nb)
            if READS_RESULTS in imported_names(code_of(text)):
                readers.add(docname)
    early = _take(app, "_adamdyn_early_zygote")
    if not jobs:
        if early is not None:
            early.close()
        return
    last = _last_seconds(cache)
    seconds = estimated_seconds({d: last.get(str(path)) for d, (path, _) in jobs.items()})
    order = execution_order(seconds, readers)
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    prefix = _zygote_prefix({nb.metadata.get("kernelspec", {}).get("name") for _, nb in jobs.values()}) \
        if app.config.book_kernel_zygote else None
    logger.info("executing %d notebooks, %d at a time%s", len(jobs), workers,
                ", kernels forked from a zygote" if prefix else "")
    logger.verbose("execution order: %s", ", ".join(order))
    docnames[:] = read_order(docnames, order, seconds, workers)
    if early is not None and early.prefix != prefix:
        early.close()  # a zygote for another interpreter: of no use here
        early = None
    app._adamdyn_execution = _Batch(cache, jobs, order, workers, early or _RunningZygote(prefix), config, logger)


#: The kernel a build with no cache at all starts a zygote for before reading any notebook (the
#: book's chapters all run it); another kernel gets its own zygote once the notebooks are read.
EARLY_KERNEL = "python3"


class _RunningZygote:
    """A zygote for the interpreter ``prefix`` (``zygote`` is None when there is none: no prefix,
    or it did not start), and the exit stack that stops it and whatever else is pushed onto it."""

    def __init__(self, prefix):
        import contextlib

        self.prefix, self.stack = prefix, contextlib.ExitStack()
        self.zygote = self.stack.enter_context(_zygote_or_none(prefix))

    def close(self):
        self.stack.close()


def _take(app, name):
    """The object the build keeps under ``name`` (None if none), no longer kept."""
    value = getattr(app, name, None)
    setattr(app, name, None)
    return value


def _on_builder_inited_start_zygote(app):
    """A build with no execution cache at all (a fresh clone) will execute every notebook: start
    the zygote now, so that its imports run while Sphinx starts and reads the notebooks."""
    config = getattr(app.env, "mystnb_config", None)
    if (config is None or config.execution_mode != "cache" or not app.config.book_kernel_zygote
            or int(app.config.book_execute_workers or 0) < 1 or Path(config.execution_cache_path).exists()):
        return
    prefix = _zygote_prefix({EARLY_KERNEL})
    if prefix is not None:
        app._adamdyn_early_zygote = _RunningZygote(prefix)


class _Batch:
    """The notebooks executing in the background while Sphinx reads: :meth:`wait_for` one,
    :meth:`close` (wait for the rest and stop the workers and the zygote)."""

    def __init__(self, cache, jobs, order, workers, zygote: _RunningZygote, config, logger):
        from concurrent.futures import ThreadPoolExecutor

        self.cache, self.logger, self.config = cache, logger, config
        self._stack = zygote.stack
        # exits before the zygote's block: the kernels end before their fork server
        pool = self._stack.enter_context(ThreadPoolExecutor(max_workers=workers))
        # the pool starts the jobs in the order given: longest first, the readers of results last
        self.pending = {docname: pool.submit(self._execute, jobs[docname], zygote.zygote) for docname in order}

    def _execute(self, job, zygote):
        from jupyter_cache.executors.utils import single_nb_execution

        path, nb = job
        config = self.config
        # a short path: a Unix socket's name is limited to about a hundred bytes
        with ipc_folder() as ipc:
            try:
                return path, single_nb_execution(nb, cwd=str(path.parent), timeout=config.execution_timeout,
                                                 allow_errors=config.execution_allow_errors, meta_override=True,
                                                 config=ipc_kernel_config(ipc, zygote))
            except Exception:  # noqa: BLE001 (a dead kernel, say): myst-nb executes it again and reports
                return path, None

    def wait_for(self, docname):
        """Wait for ``docname``'s notebook (if it is one of the batch) and put it in the cache.

        Runs in Sphinx's thread, so the cache's database is written from one thread only.
        """
        future = self.pending.pop(docname, None)
        if future is None:
            return
        from jupyter_cache.base import CacheBundleIn

        path, result = future.result()
        if result is not None and result.err is None:
            self.cache.cache_notebook_bundle(
                CacheBundleIn(result.nb, str(path), data={"execution_seconds": result.time}),
                check_validity=False, overwrite=True)
            self.logger.info("executed %s in %.1f s", path.name, result.time)
        if not self.pending:
            self.close()

    def drop_unstarted(self):
        """Forget the notebooks no worker has started yet."""
        for future in self.pending.values():
            future.cancel()
        self.pending = {d: f for d, f in self.pending.items() if not f.cancelled()}

    def close(self):
        """Cache every notebook still pending, then stop the workers and the zygote."""
        try:
            for docname in list(self.pending):
                self.wait_for(docname)
        finally:
            self._stack.close()


def _on_source_read_wait(app, docname, source):
    """Before Sphinx parses a document, wait for its notebook if the batch executes it."""
    batch = getattr(app, "_adamdyn_execution", None)
    if batch is not None:
        batch.wait_for(docname)


def _on_env_updated_close(app, env):
    """After the read: no notebook of the batch is left running (one Sphinx did not read, say)."""
    batch = _take(app, "_adamdyn_execution")
    if batch is not None:
        batch.close()


def _on_env_updated_parallel_write(app, env):
    """Write the pages ``book_write_workers`` at a time (Sphinx's parallel write).

    Only the write: a parallel read would fork readers away from the executing notebooks, and
    one of Jupyter Book's own extensions does not declare itself safe for it (Sphinx warns).
    Every extension here is safe for parallel writing, Sphinx's default for one that does not say.
    """
    workers = int(app.config.book_write_workers or 1)
    if workers > 1 and app.parallel < workers:
        app.parallel = workers


def _on_build_finished_close(app, exception):
    """A build that failed while reading still stops its kernels and the zygote (the notebooks
    not started yet are dropped)."""
    for name in ("_adamdyn_early_zygote", "_adamdyn_execution"):
        held = _take(app, name)
        if isinstance(held, _Batch) and exception is not None:
            held.drop_unstarted()
        if held is not None:
            held.close()


def _zygote_prefix(kernel_names):
    """The interpreter command of the one kernel the notebooks run if a zygote can fork it, else None."""
    if len(kernel_names) != 1 or None in kernel_names:
        return None
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from ..zygote import interpreter_prefix

    try:
        return interpreter_prefix(KernelSpecManager().get_kernel_spec(next(iter(kernel_names))).argv)
    except NoSuchKernel:
        return None


def _zygote_or_none(prefix):
    """A running zygote for ``prefix`` (None: no zygote, a block that yields None)."""
    import contextlib

    from ..zygote import running_zygote

    return running_zygote(prefix) if prefix else contextlib.nullcontext()


def _on_build_finished_prune_cache(app, exception):
    """Keep the ``book_cache_keep`` most recently used cache entries of each notebook.

    Each library edit adds entries (the key changes); without pruning the cache only grows.
    Keeping a few lets a reverted edit still hit the cache.
    """
    if exception is not None or getattr(app.env, "mystnb_config", None) is None:
        return
    if app.env.mystnb_config.execution_mode != "cache":
        return
    path = Path(app.env.mystnb_config.execution_cache_path)
    if not path.is_dir():
        return
    from jupyter_cache import get_cache

    cache = get_cache(str(path))
    by_uri: dict[str, list] = {}
    for record in cache.list_cache_records():
        by_uri.setdefault(record.uri, []).append(record)
    for records in by_uri.values():
        records.sort(key=lambda r: (r.accessed, r.pk), reverse=True)
        for record in records[max(1, int(app.config.book_cache_keep)):]:
            try:
                cache.remove_cache(record.pk)
            except KeyError:  # its files are already gone; pruning is best effort
                pass
