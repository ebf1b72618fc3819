"""A failing cell must fail the build: the book's own configuration is used on a tiny copy."""

import pytest
from conftest import MYST_HEAD, build_synthetic_book

CHAPTER = MYST_HEAD + """# Broken

```{code-cell} ipython3
raise RuntimeError("this cell fails on purpose")
```
"""


@pytest.mark.book
def test_failing_cell_fails_build(tmp_path):
    run = build_synthetic_book(tmp_path / "src", {"broken": CHAPTER}, succeed=False)
    assert "this cell fails on purpose" in run.log
