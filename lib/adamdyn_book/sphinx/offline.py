"""The pages work offline: MathJax is served from the book, and no page links a CDN.

MathJax 3 is copied from the ``sphinx-mathjax-offline`` distribution into ``_static/mathjax``
(``mathjax_path`` points there unless it names a local file already), and the Font Awesome CDN
link that matplotlib's animation player writes into its HTML is dropped (the theme already
ships Font Awesome).
"""

from __future__ import annotations

import re
from pathlib import Path

_MATHJAX_DIST = "sphinx-mathjax-offline"
_MATHJAX_ENTRY = "mathjax/tex-chtml.js"


def _on_config_inited(app, config):
    path = config.mathjax_path or ""
    if not path or "://" in path or path.startswith("//"):
        config.mathjax_path = _MATHJAX_ENTRY


def _on_builder_inited(app):
    if app.builder.format == "html":
        _mathjax_source()  # fail early, not after executing every chapter


def _mathjax_source() -> Path:
    from importlib import metadata

    try:
        dist = metadata.distribution(_MATHJAX_DIST)
    except metadata.PackageNotFoundError:
        from sphinx.errors import ExtensionError

        raise ExtensionError(f"adamdyn_book serves MathJax from the {_MATHJAX_DIST!r} package; "
                             "install the book environment (make env)") from None
    return Path(dist.locate_file(f"{_MATHJAX_DIST}/static/mathjax"))


def _on_build_finished_copy_mathjax(app, exception):
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    from importlib import metadata

    from sphinx.util.fileutil import copy_asset

    src = _mathjax_source()
    dst = Path(app.outdir) / "_static" / "mathjax"
    marker = dst / ".adamdyn-version"
    version = metadata.version(_MATHJAX_DIST)
    if marker.is_file() and marker.read_text() == version and (dst / "tex-chtml.js").is_file():
        return
    copy_asset(str(src), str(dst))
    marker.write_text(version)


# matplotlib's JavaScript animation player (FuncAnimation.to_jshtml) links Font Awesome 4 from a
# CDN; the theme already ships Font Awesome, so the page needs no network for the player's icons.
_CDN_FONT_AWESOME_RE = re.compile(r"<link[^>]*//maxcdn\.bootstrapcdn\.com/font-awesome/[^>]*>\s*")

def _on_doctree_read(app, doctree):
    from docutils import nodes

    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "").split() and _CDN_FONT_AWESOME_RE.search(node.astext()):
            text = _CDN_FONT_AWESOME_RE.sub("", node.astext())
            node.replace_self(nodes.raw(text, text, format=node["format"], classes=node["classes"]))
