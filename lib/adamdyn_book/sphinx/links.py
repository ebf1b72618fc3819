"""Every internal link and ``#anchor`` of the built HTML is checked when the build finishes.

A broken one is a warning (so an error under ``--warningiserror``).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["broken_internal_links"]


_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
               "video": "src", "iframe": "src", "embed": "src"}


_EXTERNAL_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//)")

def _parse_html(path: Path):
    """(ids, links) of an HTML file: every id/name anchor, and every (tag, url) it refers to."""
    from html.parser import HTMLParser

    ids: set[str] = set()
    links: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            for key in ("id", "name"):
                if attrs.get(key):
                    ids.add(attrs[key])
            url = attrs.get(_LINK_ATTRS.get(tag, ""))
            if url is not None:
                links.append((tag, url))

    parser = Parser(convert_charrefs=True)
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return ids, links


def broken_internal_links(html_dir) -> list[str]:
    """Every internal link of a built HTML book whose file or ``#anchor`` does not exist.

    External URLs (with a scheme, e.g. ``https:``, ``mailto:``, ``data:``) are not followed.
    Pages under ``_static``/``_sources`` etc. (theme templates, sources) are not checked.
    """
    from urllib.parse import unquote, urlsplit

    root = Path(html_dir).resolve()
    cache: dict[Path, tuple[set, list]] = {}

    def parsed(path):
        if path not in cache:
            cache[path] = _parse_html(path)
        return cache[path]

    broken = []
    pages = sorted(p for p in root.rglob("*.html") if not p.relative_to(root).parts[0].startswith("_"))
    for page in pages:
        rel = page.relative_to(root).as_posix()
        for tag, url in parsed(page)[1]:
            url = url.strip()
            if not url or _EXTERNAL_RE.match(url):
                continue
            parts = urlsplit(url)
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root != target and root not in target.parents:
                broken.append(f"{rel}: <{tag}> {url} points outside the book")
            elif not target.is_file():
                broken.append(f"{rel}: <{tag}> {url} (no such file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parsed(target)[0]:
                broken.append(f"{rel}: <{tag}> {url} (no such anchor)")
    return broken


def _on_build_finished_check_links(app, exception):
    if exception is not None or app.builder is None or app.builder.name not in ("html", "dirhtml"):
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for problem in broken_internal_links(app.outdir):
        logger.warning("broken internal link: %s", problem, type="adamdyn", subtype="links")
