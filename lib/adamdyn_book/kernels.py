"""Kernels over IPC: the configuration the book build and ``make rerun`` start their kernels with.

jupyter_client's default transport is TCP on localhost, for which it warns "Kernel is running over
TCP without encryption"; the book's kernels are local, so they talk over Unix sockets instead
(``KernelManager.transport = "ipc"``), a supported setting that needs no filtering of logs.
The build's kernels may also be forked from a zygote (:mod:`adamdyn_book.zygote`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile

from traitlets.config import Config

__all__ = ["ipc_folder", "ipc_kernel_config"]


def ipc_kernel_config(folder: str, zygote=None) -> Config:
    """Kernel-manager configuration for one kernel over IPC, its sockets under ``folder``.

    Each kernel gets a folder of its own: jupyter_client picks IPC "ports" by looking for
    existing socket files, so two kernels started at once under one prefix could pick the same.
    With ``zygote`` (the :class:`adamdyn_book.zygote.Zygote` that
    :func:`adamdyn_book.zygote.running_zygote` yields) the kernel is forked from it
    (a kernel manager that rewrites the kernel's command, defined on first use so that
    importing this module does not import jupyter_client).
    """
    config = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})
    if zygote:
        config.NotebookClient.kernel_manager_class = _zygote_manager_class()
        config.ZygoteKernelManager.zygote_socket = zygote.socket
        config.ZygoteKernelManager.zygote_prefix = list(zygote.prefix)
    return config


@functools.cache
def _zygote_manager_class():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import List, Unicode

    class ZygoteKernelManager(AsyncKernelManager):
        """A kernel manager whose ipykernel kernels are forked from a zygote (:mod:`adamdyn_book.zygote`).

        Only a kernel spec that runs ``ipykernel_launcher`` in this interpreter with the zygote's
        flags is changed (:func:`adamdyn_book.zygote.launcher_argv`): its command becomes the
        zygote's launcher, which falls back to ``ipykernel_launcher`` itself.
        """

        zygote_socket = Unicode("", help="the zygote's Unix socket").tag(config=True)
        zygote_prefix = List(help="the zygote's interpreter and flags").tag(config=True)

        @property
        def kernel_spec(self):
            spec = super().kernel_spec
            if spec is None or not self.zygote_socket or getattr(self, "_zygote_spec", None) is spec:
                return spec
            from .zygote import SOCKET_ENV, launcher_argv

            argv = launcher_argv(spec.argv, self.zygote_prefix)
            if argv is not None:
                spec.argv = argv
                spec.env = {**(spec.env or {}), SOCKET_ENV: self.zygote_socket}
            self._zygote_spec = spec
            return spec

    return ZygoteKernelManager


@contextlib.contextmanager
def ipc_folder():
    """A fresh, short-named folder for one kernel's sockets, removed afterwards.

    Short, because a Unix socket's path is limited to about a hundred bytes.
    """
    with tempfile.TemporaryDirectory(prefix="adamdyn-ipc-", dir="/tmp" if os.path.isdir("/tmp") else None) as path:
        yield path
