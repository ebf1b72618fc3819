"""Kernels over IPC: the configuration the book build and ``make rerun`` start their kernels with.

jupyter_client's default transport is TCP on localhost, for which it warns "Kernel is running over
TCP without encryption"; the book's kernels are local, so they talk over Unix sockets instead
(``KernelManager.transport = "ipc"``), a supported setting that needs no filtering of logs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from traitlets.config import Config

__all__ = ["ipc_kernel_config", "ipc_folder"]


def ipc_kernel_config(folder: str) -> Config:
    """Kernel-manager configuration for one kernel over IPC, its sockets under ``folder``.

    Each kernel gets a folder of its own: jupyter_client picks IPC "ports" by looking for
    existing socket files, so two kernels started at once under one prefix could pick the same.
    """
    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})


@contextlib.contextmanager
def ipc_folder():
    """A fresh, short-named folder for one kernel's sockets, removed afterwards.

    Short, because a Unix socket's path is limited to about a hundred bytes.
    """
    with tempfile.TemporaryDirectory(prefix="adamdyn-ipc-", dir="/tmp" if os.path.isdir("/tmp") else None) as path:
        yield path
