"""A fork server for the book build's kernels: import the chapters' common modules once, fork a kernel per chapter.

Each chapter's kernel would otherwise start a Python interpreter, import ipykernel, and then, in its
first cell, import numpy, scipy, sympy, matplotlib, numba, jax and the library again (several
seconds per chapter).  The build instead starts one *zygote* (:func:`serve`) that imports
:data:`PRELOAD` once and waits on a Unix socket; a kernel launch runs this module as the kernel's
command (``python -m adamdyn_book.zygote -f {connection_file}``, see :func:`kernel_argv`), which
asks the zygote to fork a child that becomes the ``IPKernelApp`` on that connection file.

The child is made to look like a fresh kernel process: the launcher's working directory,
environment, ``sys.path``, ``sys.argv`` and standard streams (passed as file descriptors), default
signal handlers, numpy's global random state reseeded from the OS as a fresh import would, and the
matplotlib backend left unresolved (:data:`PRELOAD` imports pyplot, not the inline backend, which
the first figure loads in the kernel with the shell present, as in any kernel).  The launcher stays
the kernel's process for the kernel manager: it forwards every signal it is sent to the child and
exits with the child's exit status (a signal's death is re-raised).

Any failure falls back to a normal kernel: without a zygote, or when it does not answer, the
launcher replaces itself (``exec``) with ``python -m ipykernel_launcher`` and the same arguments.
No process outlives the build: the zygote kills its remaining children when it is stopped, a child
dies with the zygote (``PR_SET_PDEATHSIG``), and the zygote kills a child whose launcher is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing

__all__ = ["PRELOAD", "SOCKET_ENV", "WARM_UP", "Zygote", "interpreter_prefix", "launcher_argv", "running_zygote", "serve", "warm_numba"]

#: The environment variable that gives a launcher the zygote's socket.
SOCKET_ENV = "ADAMDYN_KERNEL_ZYGOTE"

#: Modules the zygote imports: those (nearly) every chapter imports, and the kernel itself.  Only
#: imports: nothing here may start a thread, a JAX backend or a matplotlib backend before the fork.
PRELOAD = (
    "numpy", "scipy.optimize", "scipy.special", "sympy", "matplotlib.pyplot", "numba",
    "IPython", "IPython.display", "ipykernel.kernelapp", "ipykernel.zmqshell",
    "adamdyn", "adamdyn.landscapes", "adamdyn.symbols", "adamdyn.bounds",
    "adamdyn_book.display", "adamdyn_book.plotting", "myst_nb", "myst_nb.ext.glue",
    "adamdyn.networks", "optax",
)

#: Warm-ups the zygote calls after :data:`PRELOAD` (``"module:function"``), each a one-time cost
#: every chapter's kernel would otherwise pay again: pure Python objects and files read, no
#: thread and no backend.  Matplotlib's mathtext grammar and fonts: the first tick label of a
#: log axis costs a kernel about 0.1 s.  numba's compiler (:func:`warm_numba`): about 0.9 s of
#: CPU in every kernel whose first call of a library kernel compiles it or loads it from the cache.
WARM_UP = ("adamdyn_book.plotting:warm_mathtext", "adamdyn_book.zygote:warm_numba")


def warm_numba() -> None:
    """Set numba's compiler up by compiling one trivial function (nothing is cached on disk).

    numba builds its typing and target contexts and its LLVM code generator at the first
    compilation of a process, and loading a kernel from numba's cache is a compilation for it:
    about 0.9 s of CPU, against 0.1 s for loading the batched sweep kernel itself.  Done in the
    zygote, every forked kernel starts with them.  It starts no thread.
    """
    import numba

    numba.njit(lambda x: x + 1.0)(1.0)


_HEADER = 8  # bytes of a message's length prefix
#: The inline backend, as ipykernel sets it before the shell starts (``IPKernelApp.init_gui_pylab``).
_MPLBACKEND = "module://matplotlib_inline.backend_inline"


def _send(sock, obj, fds=()) -> None:
    data = json.dumps(obj).encode()
    data = len(data).to_bytes(_HEADER, "big") + data
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def _recv(sock, maxfds=0):
    """One message (and up to ``maxfds`` file descriptors), or ``(None, [])`` at end of stream."""
    buf, fds = b"", []
    while len(buf) < _HEADER or len(buf) < _HEADER + int.from_bytes(buf[:_HEADER], "big"):
        if maxfds and not fds:
            chunk, fds, _, _ = socket.recv_fds(sock, 1 << 16, maxfds)
        else:
            chunk = sock.recv(1 << 16)
        if not chunk:
            for fd in fds:
                os.close(fd)
            return None, []
        buf += chunk
    return json.loads(buf[_HEADER:]), fds


# --------------------------------------------------------------------------- the zygote

def serve(path: str) -> None:
    """Bind ``path``, import :data:`PRELOAD`, then fork one kernel per request until terminated.

    Requests that arrive during the imports wait in the socket's backlog.  The imports must be
    silent: a warning or any output there is one a normal kernel would print into a chapter's
    first cell, so then the zygote exits without serving (the waiting launchers fall back to
    normal kernels).
    """
    import importlib
    import selectors
    import warnings

    _die_with_parent()  # with the build, whatever ends it
    try:  # Linux >= 5.3: without process descriptors, no zygote (and no socket: normal kernels)
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        sys.exit(4)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    os.environ.setdefault("MPLBACKEND", _MPLBACKEND)
    before = dict(os.environ)
    sys.stdout.flush()
    sys.stderr.flush()
    written = _output_sizes()
    with warnings.catch_warnings(record=True) as caught:
        for name in PRELOAD:
            importlib.import_module(name)
        for entry in WARM_UP:
            module, function = entry.split(":")
            getattr(importlib.import_module(module), function)()
    sys.stdout.flush()
    sys.stderr.flush()
    if caught or _output_sizes() != written:
        print("zygote: the preload was not silent; not serving", file=sys.stderr, flush=True)
        listener.close()
        os.unlink(path)
        sys.exit(3)
    # the collector of a kernel leaves the imported objects alone: it would write to every one of
    # them and so copy every page of memory the fork shares
    import gc

    gc.collect()
    gc.freeze()
    # what the imports put in the environment (JAX_PLATFORMS): a kernel that imported them has it
    added = {k: v for k, v in os.environ.items() if before.get(k) != v}
    added["MPLBACKEND"] = os.environ["MPLBACKEND"]

    children: dict[int, socket.socket] = {}  # pid -> its launcher's connection
    pidfds: dict[int, int] = {}  # pid -> a descriptor readable once it exits
    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, ("accept", None))
    r, w = os.pipe()  # wakes the loop on a signal
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    selector.register(r, selectors.EVENT_READ, ("wake", None))
    try:
        while not stopping:
            for key, _ in selector.select():
                kind, pid = key.data
                if kind == "accept":
                    conn, _ = listener.accept()
                    request, fds = _recv(conn, maxfds=3)
                    if request is None or len(fds) != 3:
                        conn.close()
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:  # the kernel
                        signal.set_wakeup_fd(-1)
                        selector.close()
                        listener.close()
                        for other in children.values():
                            other.close()
                        for fd in (r, w, *pidfds.values()):
                            os.close(fd)
                        _become_kernel(request, fds, conn, added)  # never returns
                    for fd in fds:
                        os.close(fd)
                    children[pid] = conn
                    _send(conn, {"pid": pid})
                    pidfds[pid] = os.pidfd_open(pid)
                    selector.register(pidfds[pid], selectors.EVENT_READ, ("exit", pid))
                    selector.register(conn, selectors.EVENT_READ, ("launcher", pid))
                elif kind == "exit":
                    selector.unregister(key.fileobj)
                    os.close(pidfds.pop(pid))
                    _, status = os.waitpid(pid, 0)
                    conn = children.pop(pid)
                    with contextlib.suppress(KeyError):  # not if its launcher left first
                        selector.unregister(conn)
                    with contextlib.suppress(OSError):
                        _send(conn, {"status": os.waitstatus_to_exitcode(status)})
                    conn.close()
                elif kind == "launcher":  # the launcher went away (killed): so does its kernel
                    selector.unregister(key.fileobj)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                elif kind == "wake":
                    os.read(r, 512)
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(path)


def _output_sizes():
    """The sizes of the files standard output and error go to (None for a terminal or a pipe)."""
    import stat

    sizes = [os.fstat(fd) for fd in (1, 2)]
    return [s.st_size if stat.S_ISREG(s.st_mode) else None for s in sizes]


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the zygote dies (best effort)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _become_kernel(request: dict, fds, conn, added: dict):
    """In the forked child: take the launcher's process state, run the kernel, exit."""
    code = 1
    try:
        _die_with_parent()
        for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as the interpreter sets it at startup
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for k, v in added.items():
            os.environ.setdefault(k, v)
        sys.path[:] = request["path"]
        import ipykernel_launcher

        # ipykernel_launcher takes the working directory out of the path while it imports
        # (InteractiveShellApp.init_path puts it back)
        if sys.path and (sys.path[0] == "" or os.path.abspath(sys.path[0]) == os.getcwd()):
            del sys.path[0]
        sys.argv[:] = [ipykernel_launcher.__file__, *request["args"]]
        if "numpy" in sys.modules:  # a fresh import seeds the legacy global RNG from the OS
            sys.modules["numpy"].random.seed()
        conn.close()
        from ipykernel.kernelapp import IPKernelApp

        # what ipykernel_launcher runs; the two traits whose defaults were read from the
        # environment when the zygote imported ipykernel are read from the kernel's
        IPKernelApp.launch_instance(parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0),
                                    interrupt=int(os.environ.get("JPY_INTERRUPT_EVENT") or 0))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 (whatever failed, the kernel process must exit)
        import traceback

        traceback.print_exc()
    finally:
        # what the interpreter's exit does that matters (atexit hooks, flushed streams), without
        # tearing down every module of the zygote's heap one by one
        import atexit

        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


# --------------------------------------------------------------------------- the launcher

def _normal_kernel(args) -> None:
    """Replace this process with a normal kernel (the fallback), with this interpreter's flags."""
    flags = sys.orig_argv[1:sys.orig_argv.index("-m")] if "-m" in sys.orig_argv else []
    os.execv(sys.executable, [sys.executable, *flags, "-m", "ipykernel_launcher", *args])


def launch(args) -> int:
    """The kernel command: a zygote-forked kernel on ``args`` (``-f connection_file``), else a normal one."""
    path = os.environ.pop(SOCKET_ENV, None)  # the kernel, forked or not, does not see it
    if not path:
        _normal_kernel(args)
    env = dict(os.environ)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        _send(sock, {"cwd": os.getcwd(), "env": env, "path": sys.path, "args": list(args)}, fds=(0, 1, 2))
        reply, _ = _recv(sock)
    except OSError:
        reply = None
    if not reply or "pid" not in reply:
        _normal_kernel(args)
    pid = reply["pid"]

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"):
        signal.signal(getattr(signal, name), forward)
    try:
        reply, _ = _recv(sock)
    except OSError:
        reply = None
    if not reply or "status" not in reply:  # the zygote is gone: so must its kernel be
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return 1
    status = reply["status"]
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


def interpreter_prefix(argv):
    """``[python, *flags]`` of a kernel command ``[python, *flags, "-m", "ipykernel_launcher",
    "-f", "{connection_file}"]`` run by this interpreter, else None (not a kernel we can fork)."""
    argv = list(argv)
    if len(argv) < 5 or argv[-4:] != ["-m", "ipykernel_launcher", "-f", "{connection_file}"]:
        return None
    if os.path.realpath(argv[0]) != os.path.realpath(sys.executable):
        return None
    flags = argv[1:-4]
    if not all(f.startswith("-X") for f in flags):  # flags the zygote can be started with
        return None
    return argv[:-4]


def launcher_argv(argv, prefix):
    """The zygote's launcher in place of ``ipykernel_launcher`` in the kernel command ``argv``,
    or None unless ``argv`` runs the zygote's interpreter with its flags (``prefix``)."""
    if interpreter_prefix(argv) != list(prefix):
        return None
    return [*prefix, "-m", "adamdyn_book.zygote", "-f", "{connection_file}"]


# --------------------------------------------------------------------------- the build's side

class Zygote(typing.NamedTuple):
    """A running zygote: its socket, and the interpreter command it runs (``[python, *flags]``)."""

    socket: str
    prefix: list


@contextlib.contextmanager
def running_zygote(prefix=None, timeout: float = 10.0):
    """Run a zygote for the duration of the block; yield a :class:`Zygote`, or None if it did not start.

    ``prefix`` is the interpreter and its flags, ``[python, *flags]`` (default: this interpreter,
    no flags); kernels whose command runs the same are forked from it.

    The block need not wait for the imports: launchers queue until the zygote serves, and fall
    back to normal kernels if it exits instead.  Its output (nothing, unless it refuses to serve)
    goes to a file, never into the build's log.
    """
    with tempfile.TemporaryDirectory(prefix="adamdyn-zyg-", dir="/tmp" if os.path.isdir("/tmp") else None) as folder:
        path = os.path.join(folder, "socket")
        with open(os.path.join(folder, "log"), "wb") as log:
            prefix = list(prefix or [sys.executable])
            proc = subprocess.Popen([*prefix, "-m", "adamdyn_book.zygote", "--serve", path],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            yield Zygote(path, prefix) if os.path.exists(path) and proc.poll() is None else None
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    else:
        sys.exit(launch(sys.argv[1:]))
