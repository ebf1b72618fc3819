"""The build's kernel zygote: a forked kernel gives a normal kernel's outputs byte for byte, the
launcher falls back to a normal kernel when the zygote is missing or refuses, and no process is
left behind."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import nbformat
import pytest
from adamdyn_book import zygote as Z
from adamdyn_book.kernels import ipc_folder, ipc_kernel_config
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

pytestmark = pytest.mark.tooling

# what a chapter's cells produce: stdout and stderr (C level too), a warning, a glued value, sympy
# math, a retina PNG figure in the book's style, numpy's global random state seeded from the OS
CELLS = [
    ("import numpy as np\nimport sympy as sp\nimport matplotlib.pyplot as plt\n"
     "from adamdyn_book.display import glue_values, show\nfrom adamdyn_book.plotting import figure, use_book_style\n"
     "use_book_style()"),
    "print('out', np.arange(3) / 7)\nimport sys; print('err', file=sys.stderr)\nimport os; os.write(1, b'fd1\\n')",
    "import warnings; warnings.warn('a warning from a cell')",
    "glue_values(z_a=np.float64(1) / 3, z_b=[1, 2])\nx = sp.symbols('x')\nshow(sp.Eq(sp.diff(sp.sin(x) ** 2, x), 0))",
    "fig, ax = figure()\nax.plot(np.linspace(0, 1, 50) ** 2, label='Adam')\nax.legend(fontsize=5)\nplt.show()",
    "import matplotlib; print(matplotlib.get_backend(), matplotlib.is_interactive(), sorted(plt.get_fignums()))",
    ("import os, sys; print(os.path.basename(os.getcwd()), sys.argv[0].endswith('ipykernel_launcher.py'),"
     f" os.environ.get('MPLBACKEND'), os.environ.get({Z.SOCKET_ENV!r}))"),
    "np.random.random() != 0.5",
    "1 / 7",
]


def _prefix():
    prefix = Z.interpreter_prefix(KernelSpecManager().get_kernel_spec("python3").argv)
    if prefix is None:
        pytest.skip("the python3 kernel is not this interpreter's ipykernel")
    return prefix


def _run(cwd, zygote=None, cells=CELLS):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    with ipc_folder() as ipc:
        client = NotebookClient(nb, timeout=120, kernel_name="python3", config=ipc_kernel_config(ipc, zygote),
                                resources={"metadata": {"path": str(cwd)}})
        with client.setup_kernel():
            argv = list(client.km.kernel_spec.argv)
            pid = client.km.provisioner.pid
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
    # a warning names the file of its cell, which names the kernel's process: differs in any two kernels
    return [re.sub(r"ipykernel_\d+", "ipykernel_PID", json.dumps(c.outputs, sort_keys=True)) for c in nb.cells], argv, pid


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def zygote():
    with Z.running_zygote(_prefix()) as running:
        assert running is not None
        yield running


def test_a_forked_kernel_gives_a_normal_kernels_outputs_byte_for_byte(tmp_path, zygote):
    normal, argv_normal, _ = _run(tmp_path)
    forked, argv_forked, _ = _run(tmp_path, zygote)
    assert "ipykernel_launcher" in argv_normal and "adamdyn_book.zygote" in argv_forked
    assert forked == normal
    assert '"image/png"' in normal[4] and "a warning from a cell" in normal[2] and "z_a" in normal[3]
    # the kernel saw a normal kernel's state: inline backend, cwd, argv, no zygote variable
    assert "inline" in normal[5] and f"{tmp_path.name} True module://matplotlib_inline.backend_inline None" in normal[6]


def test_the_forked_kernel_has_the_preloaded_modules_and_dies_with_its_launcher(tmp_path, zygote):
    outputs, _, _ = _run(tmp_path, zygote, ["import sys; print('numba' in sys.modules, 'sympy' in sys.modules)"])
    assert "True True" in outputs[0]
    # a launcher killed without warning (SIGKILL: it cannot forward it) takes its kernel with it
    before = set(_all_pids())
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("import os; print(os.getpid())")]
    with ipc_folder() as ipc:
        client = NotebookClient(nb, timeout=120, kernel_name="python3", config=ipc_kernel_config(ipc, zygote),
                                resources={"metadata": {"path": str(tmp_path)}})
        with client.setup_kernel():
            client.execute_cell(nb.cells[0], 0)
            kernel = int(nb.cells[0].outputs[0]["text"])
            launcher = client.km.provisioner.pid
            assert kernel != launcher and kernel not in before and _alive(kernel)
            os.kill(launcher, signal.SIGKILL)
            _wait_gone(kernel)
    assert not _alive(kernel)


def _first_output_forked_and_normal(tmp_path, zygote, code):
    """What ``code`` prints as the first cell of a kernel forked from the zygote, and of a normal one."""
    return _run(tmp_path, zygote, [code])[0][0], _run(tmp_path, None, [code])[0][0]


# the zygote's warm-ups (WARM_UP): a forked kernel starts with them done, a normal kernel does them itself
WARMED_UP = {
    # matplotlib's mathtext grammar is built; no backend may be resolved before the fork
    "mathtext": (("import sys; from matplotlib.mathtext import MathTextParser; "
                  "print(MathTextParser._parser is not None, 'matplotlib_inline.backend_inline' in sys.modules)"),
                 "True False", "False False"),
    # numba's typing and target contexts and its code generator are set up (warm_numba)
    "numba": ("from numba.core.registry import cpu_target; print('_toplevel_target_context' in vars(cpu_target))",
              "True", "False"),
}


@pytest.mark.parametrize("what", sorted(WARMED_UP))
def test_the_forked_kernel_starts_warmed_up(tmp_path, zygote, what):
    code, forked_prints, normal_prints = WARMED_UP[what]
    forked, normal = _first_output_forked_and_normal(tmp_path, zygote, code)
    assert forked_prints in forked
    assert normal_prints in normal


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _wait_gone(pid, seconds=20):
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
        _reap(pid)
    assert not _alive(pid), f"process {pid} outlived its launcher"


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def test_without_a_zygote_the_launcher_runs_a_normal_kernel(tmp_path):
    prefix = _prefix()
    missing = Z.Zygote(str(tmp_path / "no-such-socket"), prefix)
    normal, _, _ = _run(tmp_path)
    fallback, argv, _ = _run(tmp_path, missing)
    assert "adamdyn_book.zygote" in argv
    assert fallback == normal


def test_a_zygote_that_hangs_up_leaves_a_normal_kernel(tmp_path):
    # a server that accepts and closes at once, as a zygote that refuses to serve does
    path = str(tmp_path / "s")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)

    def hang_up():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        outputs, _, _ = _run(tmp_path, Z.Zygote(path, _prefix()),
                             ["import sys; print('numba' in sys.modules)", "1 + 1"])
    finally:
        server.close()
    assert "False" in outputs[0] and '"2"' in outputs[1]


def test_a_zygote_whose_preload_is_not_silent_refuses_to_serve(tmp_path):
    # a preload module that warns: a normal kernel would show that warning in a cell
    (tmp_path / "noisy_preload.py").write_text("import warnings\nwarnings.warn('noisy import')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    code = ("import sys; from adamdyn_book import zygote as Z; Z.PRELOAD = ('noisy_preload',);"
            f" Z.serve({str(tmp_path / 's')!r})")
    log = tmp_path / "log"
    with open(log, "wb") as out:
        result = subprocess.run([sys.executable, "-c", code], stdout=out, stderr=out, env=env, timeout=60,
                                check=False)
    assert result.returncode == 3
    assert "not silent" in log.read_text()
    assert not (tmp_path / "s").exists()


def test_no_process_outlives_the_zygote(tmp_path):
    with Z.running_zygote(_prefix()) as running:
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
        nb.cells = [nbformat.v4.new_code_cell("import os; print(os.getpid(), os.getppid())")]
        with ipc_folder() as ipc:
            client = NotebookClient(nb, timeout=120, kernel_name="python3",
                                    config=ipc_kernel_config(ipc, running),
                                    resources={"metadata": {"path": str(tmp_path)}})
            client.km = client.create_kernel_manager()
            client.start_new_kernel()
            client.start_new_kernel_client()
            client.execute_cell(nb.cells[0], 0)
            kernel, zygote_pid = map(int, nb.cells[0].outputs[0]["text"].split())
            launcher = client.km.provisioner.pid
            # the block ends with the kernel still running: the zygote takes it down
    _wait_gone(kernel)
    _wait_gone(zygote_pid)
    _wait_gone(launcher)
    client._cleanup_kernel()
    assert not os.path.exists(running.socket)


def test_the_launcher_argv_is_used_only_for_this_interpreters_ipykernel():
    prefix = [sys.executable, "-Xfrozen_modules=off"]
    kernel = [*prefix, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert Z.interpreter_prefix(kernel) == prefix
    assert Z.launcher_argv(kernel, prefix) == [*prefix, "-m", "adamdyn_book.zygote", "-f", "{connection_file}"]
    assert Z.launcher_argv(kernel, [sys.executable]) is None  # other flags than the zygote's
    assert Z.interpreter_prefix(["/usr/bin/other-python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]) is None
    assert Z.interpreter_prefix([sys.executable, "-m", "some_other_kernel", "-f", "{connection_file}"]) is None
    assert Z.interpreter_prefix([sys.executable, "-c", "x", "-m", "ipykernel_launcher", "-f", "{connection_file}"]) is None


def _zygote_processes():
    found = set()
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"adamdyn_book.zygote" in f.read():
                    found.add(pid)
        except OSError:
            pass
    return found


@pytest.mark.book
def test_a_book_built_with_the_zygote_says_so_and_leaves_no_process(tmp_path):
    from conftest import MYST_HEAD, build_synthetic_book

    pages = {"intro": "# Intro\n\nChapters {ref}`za` and {ref}`zb`.\n"}
    for name in ("za", "zb"):
        pages[name] = (MYST_HEAD + f"({name})=\n# Chapter {name}\n\n```{{code-cell}} ipython3\n"
                       "import sys\nfrom myst_nb import glue\n"
                       "glue('preloaded', 'numba' in sys.modules, display=False)\n```\n\n"
                       "Preloaded: {glue:text}`preloaded`.\n")
    before = _zygote_processes()
    run = build_synthetic_book(tmp_path / "src", pages, config={"book_execute_workers": 2})
    assert "executing 2 notebooks, 2 at a time, kernels forked from a zygote" in run.log
    assert "WARNING" not in run.log
    assert 'Preloaded: <span class="pasted-text">True' in (run.html / "za.html").read_text()
    time.sleep(0.5)
    assert not (_zygote_processes() - before)


def test_an_interrupt_reaches_the_forked_kernel(tmp_path, zygote):
    # the kernel manager signals the launcher; the launcher forwards the signal to the kernel
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(60)"), nbformat.v4.new_code_cell("'after'")]
    with ipc_folder() as ipc:
        client = NotebookClient(nb, timeout=3, kernel_name="python3", config=ipc_kernel_config(ipc, zygote),
                                interrupt_on_timeout=True, allow_errors=True,
                                resources={"metadata": {"path": str(tmp_path)}})
        start = time.monotonic()
        client.execute()
    assert time.monotonic() - start < 30
    assert nb.cells[0].outputs[0]["ename"] == "KeyboardInterrupt"
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "'after'"
