"""Every internal link and ``#anchor`` of the built HTML is checked when the build finishes.

A broken one is a warning (so an error under ``--warningiserror``).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["broken_internal_links", "external_resources"]


_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
               "video": "src", "iframe": "src", "embed": "src"}


_EXTERNAL_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//)")

#: Comments, and the content of <script> and <style> (which HTML does not parse as tags); the
#: opening tag of a script or style is kept (group 1), so that its ``src`` is still seen.
_OPAQUE_RE = re.compile(r"<!--.*?-->|(<(?:script|style)\b(?:\"[^\"]*\"|'[^']*'|[^'\">])*>).*?</(?:script|style)\s*>",
                        re.DOTALL | re.IGNORECASE)
#: A start tag: its name (group 1) and its attributes (group 2), quoted values allowed to hold ">".
_TAG_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s\"'>/=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*/?>")
#: One attribute: its name (group 1) and its value, double-quoted, single-quoted or bare.
_ATTR_RE = re.compile(r"([^\s\"'>/=]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")


def _start_tags(text: str):
    """``(tag, {attribute: value})`` of every start tag of an HTML text, names in lower case and
    character references in the values resolved, as :class:`html.parser.HTMLParser` reports them.

    A regular-expression scan, several times faster than the parser on the book's pages; the
    pages are Sphinx's own output, well formed, and a test compares the two on them.
    """
    from html import unescape

    text = _OPAQUE_RE.sub(lambda m: m.group(1) or "", text)
    for match in _TAG_RE.finditer(text):
        attrs = {}
        for attr in _ATTR_RE.finditer(match.group(2) or ""):
            value = next((v for v in attr.group(2, 3, 4) if v is not None), None)  # None: no value
            attrs.setdefault(attr.group(1).lower(), None if value is None else unescape(value))
        yield match.group(1).lower(), attrs


def _parse_html(path: Path):
    """(ids, links) of an HTML file: every id/name anchor, and every (tag, url) it refers to."""
    ids: set[str] = set()
    links: list[tuple[str, str]] = []
    for tag, attrs in _start_tags(path.read_text(encoding="utf-8", errors="replace")):
        for key in ("id", "name"):
            if attrs.get(key):
                ids.add(attrs[key])
        url = attrs.get(_LINK_ATTRS.get(tag, ""))
        if url is not None:
            links.append((tag, url))
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


# ---------------------------------------------------------------------------------------------
# the offline promise: nothing a page loads comes from outside the book
# ---------------------------------------------------------------------------------------------

#: Attributes through which a tag makes the browser load something (a plain <a href> does not).
_LOAD_ATTRS = {"script": ("src",), "img": ("src", "srcset"), "source": ("src", "srcset"), "iframe": ("src",),
               "video": ("src", "poster"), "audio": ("src",), "embed": ("src",), "object": ("data",),
               "track": ("src",), "input": ("src",)}
#: ``<link rel=...>`` values that do not load anything.
_NON_LOADING_RELS = {"canonical", "alternate", "index", "search", "next", "prev", "author", "license", "help",
                     "copyright", "top", "up", "first", "last", "bookmark"}
_REMOTE_RE = re.compile(r"^\s*(https?:)?//", re.I)
_CSS_URL_RE = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.I)


def _remote_css(text: str) -> list[str]:
    return [u for m in _CSS_URL_RE.finditer(text) for u in m.groups() if u and _REMOTE_RE.match(u)]


def external_resources(html_dir) -> list[str]:
    """Everything a built page (or a stylesheet of the book) would load from outside the book.

    Checks the ``src``/``srcset`` of scripts, images, media and frames, ``<link>`` elements that
    load (stylesheets, icons, fonts, preloads; not ``canonical`` and the like), ``url(...)`` and
    ``@import`` in ``<style>`` blocks, ``style`` attributes and every ``.css`` file of the book.
    Plain links (``<a href>``) are navigation, not loads, and are not reported.  A URL is
    external when it has an ``http(s):`` scheme or starts with ``//``.

    Returns
    -------
    list of str
        ``"page: <tag> url"`` lines; empty when the book works offline.
    """
    from html.parser import HTMLParser

    root = Path(html_dir).resolve()
    found: list[str] = []

    class Parser(HTMLParser):
        def __init__(self, rel):
            super().__init__(convert_charrefs=True)
            self.rel, self.in_style = rel, False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            urls = []
            for key in _LOAD_ATTRS.get(tag, ()):
                value = attrs.get(key) or ""
                urls += [part.split()[0] for part in value.split(",") if part.split()] if key == "srcset" else [value]
            if tag == "link":
                rels = set((attrs.get("rel") or "").lower().split())
                if not rels or rels - _NON_LOADING_RELS:
                    urls.append(attrs.get("href") or "")
            found.extend(f"{self.rel}: <{tag}> {u}" for u in urls if u and _REMOTE_RE.match(u))
            found.extend(f"{self.rel}: <{tag} style> {u}" for u in _remote_css(attrs.get("style") or ""))
            self.in_style = tag == "style"

        def handle_endtag(self, tag):
            self.in_style = False

        def handle_data(self, data):
            if self.in_style:
                found.extend(f"{self.rel}: <style> {u}" for u in _remote_css(data))

    for page in sorted(root.rglob("*.html")):
        parser = Parser(page.relative_to(root).as_posix())
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    for sheet in sorted(root.rglob("*.css")):
        found.extend(f"{sheet.relative_to(root).as_posix()}: css {u}"
                     for u in _remote_css(sheet.read_text(encoding="utf-8", errors="replace")))
    return found
