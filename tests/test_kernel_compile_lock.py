"""Two processes never compile one kernel at once (adamdyn._kernels._compile_once)."""

import json
import os
import subprocess
import sys
import textwrap
import time
import types
import uuid

from adamdyn import _kernels as K

_CHILD = textwrap.dedent("""
    import json, sys
    from adamdyn import _kernels as K
    import probe_module as P
    K._compile_once(P.KERNEL, (1.0,))
    K._compile_once(P.KERNEL, (1.0,))  # the second call neither locks nor compiles
    stats = P.KERNEL.stats
    print(json.dumps({"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values()),
                      "result": P.KERNEL(1.0), "versions": len(P.KERNEL.overloads)}))
""")


def test_a_second_process_waits_for_the_compilation_and_loads_it_from_the_cache(tmp_path):
    name = f"probe_{uuid.uuid4().hex[:12]}"  # a lock of its own
    (tmp_path / "probe_module.py").write_text(
        f"import numba\n\n@numba.njit(cache=True)\ndef {name}(x):\n    return x + 1.0\n\nKERNEL = {name}\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    with K._compile_lock(types.SimpleNamespace(__name__=name)):
        children = [subprocess.Popen([sys.executable, "-c", _CHILD], env=env, stdout=subprocess.PIPE, text=True)
                    for _ in range(2)]
        time.sleep(3.0)
        assert all(c.poll() is None for c in children)  # both wait for the lock the test holds
    results = [json.loads(c.communicate(timeout=120)[0]) for c in children]
    assert sorted(r["misses"] for r in results) == [0, 1]  # one compiled ...
    assert sorted(r["hits"] for r in results) == [0, 1]  # ... the other loaded what it stored
    assert all(r["result"] == 2.0 and r["versions"] == 1 for r in results)


def test_the_signature_compiled_is_the_one_dispatch_uses():
    import numpy as np

    import adamdyn as ad
    from adamdyn import landscapes as L

    ad.run(ad.adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8), L.quadratic([0.5, 2.0]), np.ones(2), 10)
    ad.updates_from_gradients(ad.adam(1.0, 0.9, 0.999, 0.0), np.ones((5, 1)))
    for kernel in (K._sweep_runs, K.gradient_updates):
        assert kernel in K._READY and len(kernel.overloads) == 1
