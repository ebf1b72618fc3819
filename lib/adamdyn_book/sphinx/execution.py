"""Execute the chapters that miss the cache in parallel, over IPC kernels, and prune the cache.

Before Sphinx reads the notebooks one by one, those that miss the cache are executed
``book_execute_workers`` (default 2) at a time, so a cold build takes the time of the slowest
chain, not the sum of all chapters.  Their kernels talk to the build over IPC (Unix sockets),
not plain TCP on localhost, so they neither expose the code on a port nor log ipykernel's
warning about unencrypted TCP into the build log.  After the build the cache keeps the
``book_cache_keep`` (default 3) most recently used entries of each notebook.
"""

from __future__ import annotations

from pathlib import Path

from ..kernels import ipc_folder, ipc_kernel_config
from .cache_keys import _on_source_read
from .libgraph import is_notebook


def _on_env_before_read_docs(app, env, docnames):
    """Execute the notebooks about to be read that miss the cache, ``book_execute_workers`` at a
    time, and put them in the cache; the (serial) read then finds every one there.

    Speed and the kernels' transport (IPC) are at stake: a notebook whose key we do not
    reproduce exactly, or that fails, is left to myst-nb, which executes it (again, over TCP) and
    reports its error as usual.
    """
    config = getattr(env, "mystnb_config", None)
    workers = int(app.config.book_execute_workers or 0)
    if config is None or config.execution_mode != "cache" or workers < 1:
        return
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution
    from myst_nb.core.read import create_nb_reader

    cache = get_cache(config.execution_cache_path)
    jobs = []
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
            jobs.append((path, nb))
    if not jobs:
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    logger.info("executing %d notebooks, %d at a time", len(jobs), workers)

    def execute(job):
        path, nb = job
        # a short path: a Unix socket's name is limited to about a hundred bytes
        with ipc_folder() as ipc:
            return path, single_nb_execution(nb, cwd=str(path.parent), timeout=config.execution_timeout,
                                             allow_errors=config.execution_allow_errors, meta_override=True,
                                             config=ipc_kernel_config(ipc))

    # longest first would be ideal; the cache's last execution times give a proxy when known
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path, result in pool.map(execute, jobs):
            if result.err is None:
                cache.cache_notebook_bundle(
                    CacheBundleIn(result.nb, str(path), data={"execution_seconds": result.time}),
                    check_validity=False, overwrite=True)
                logger.info("executed %s in %.1f s", path.name, result.time)


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
