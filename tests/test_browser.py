"""Every built page, loaded in a real (headless) Chromium with the network off.

For each page: no failed request and nothing fetched from outside the book (file:// only),
no JavaScript error, math typeset by the book's own MathJax (no raw TeX left, no MathJax
error), every image, figure and animation present and every figure retina-sharp (two image
pixels per CSS pixel, as adamdyn_book.plotting.use_book_style asks), no error output, warning or traceback.
Screenshots of key pages (light and dark theme) are saved to _build/screenshots/.

Chromium is driven through the DevTools protocol over a pipe (--remote-debugging-pipe), so
nothing beyond the standard library is needed.  The test skips if no chromium is installed
(`.ci/run` installs Debian's package when it can).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
KEY_PAGES = ["chapters/intro", "chapters/flat", "chapters/saddle", "chapters/valleys", "chapters/ode",
             "chapters/stable_region", "chapters/ledger", "chapters/explorer"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """A headless Chromium and a minimal DevTools-protocol client over --remote-debugging-pipe."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes():  # in the child: the protocol wants fd 3 (commands in) and fd 4 (out)
            r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--disable-dev-shm-usage",
             # the network is off: any name lookup fails, so an external request cannot succeed
             "--host-resolver-rules=MAP * ~NOTFOUND",
             f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes, pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            reply = self._read_message(deadline)
            if "method" in reply:
                self.events.append(reply)


# Runs in the page after load: waits for MathJax, then reports what a reader would see.
PAGE_REPORT_JS = r"""
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const mathSource = document.querySelectorAll('.math, .output.text_latex').length;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  // images (including animation frames set by script) finish loading
  for (let i = 0; i < 50 && [...document.images].some((im) => !im.complete); i++) { await sleep(100); }
  await sleep(200);
  const main = document.querySelector('main') || document.body;
  const text = (el) => (el.textContent || '').trim().slice(0, 300);
  const visible = main.cloneNode(true);
  visible.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight, .MathJax_Preview')
    .forEach((el) => el.remove());
  const rawTex = (visible.textContent.match(
      /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]{0,80}\\[a-zA-Z]+[^$\n]{0,80}\$/g) || []).slice(0, 5);
  const outputs = [...main.querySelectorAll('.cell_output, .output')].map((el) => el.textContent).join('\n');
  return JSON.stringify({
    title: document.title,
    mathjax: !!(window.MathJax && MathJax.version),
    mathjaxVersion: window.MathJax ? MathJax.version : null,
    mathSource,
    mathTypeset: document.querySelectorAll('mjx-container').length,
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(text),
    rawTex,
    brokenImages: [...document.images].filter((im) => !(im.complete && im.naturalWidth > 0))
      .map((im) => im.currentSrc || im.src),
    images: [...main.querySelectorAll('img')].length,
    // figures are crisp: a book figure (in _images/) has at least 1.5 image pixels per CSS pixel
    lowResImages: [...main.querySelectorAll('img')]
      .filter((im) => (im.currentSrc || im.src).includes('/_images/') && im.naturalWidth > 0
              && im.naturalWidth < 1.5 * (parseFloat(im.style.width) || im.clientWidth))
      .map((im) => `${(im.currentSrc || im.src).split('/').pop()}: ${im.naturalWidth} px shown at `
                   + `${parseFloat(im.style.width) || im.clientWidth} px`),
    emptyFigures: [...main.querySelectorAll('figure')]
      .filter((f) => !f.querySelector('img, svg, video, canvas, mjx-container, iframe, table')).map(text),
    figures: main.querySelectorAll('figure').length,
    videos: [...main.querySelectorAll('video')].map((v) => ({src: v.currentSrc, error: !!v.error})),
    animations: [...main.querySelectorAll('.animation')].map((a) => {
      const im = a.querySelector('img');
      return {ok: !!(im && im.complete && im.naturalWidth > 0)};
    }),
    errorOutputs: [...main.querySelectorAll('.output.stderr, .output.traceback, .output.error, .system-message')]
      .map(text),
    tracebacks: (outputs.match(/Traceback \(most recent call last\)|\b\w+(Warning|Error):/g) || []).slice(0, 5),
    downloadNotebook: [...document.querySelectorAll('a[href$=".ipynb"]')].map((a) => a.href),
  });
})()
"""


def check_page(browser: Chromium, html_root: Path, page: Path, screenshot: Path | None = None) -> dict:
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    try:
        for domain in ("Page", "Network", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.events.clear()
        browser.send("Page.navigate", {"url": page.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired", session, timeout=60)
        result = browser.send("Runtime.evaluate", {"expression": PAGE_REPORT_JS, "awaitPromise": True,
                                                   "returnByValue": True}, session=session, timeout=120)
        if "exceptionDetails" in result:
            raise AssertionError(f"report script failed: {result['exceptionDetails']}")
        report = json.loads(result["result"]["value"])
        if screenshot is not None:
            shoot(browser, session, screenshot)
            browser.send("Runtime.evaluate", {"expression": "document.documentElement.dataset.theme = 'dark'"},
                         session=session)
            time.sleep(0.3)
            shoot(browser, session, screenshot.with_name(screenshot.stem + "-dark.png"))
        browser.send("Runtime.evaluate", {"expression": "1"}, session=session)  # flush pending events
    finally:
        browser.send("Target.closeTarget", {"targetId": target})
    events = [e for e in browser.events if e.get("sessionId") == session]
    urls = {e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in events if e["method"] == "Network.requestWillBeSent"}
    report["external"] = sorted({u for u in urls.values() if not u.startswith(LOCAL_SCHEMES)})
    report["failedRequests"] = [f"{urls.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
                                for e in events if e["method"] == "Network.loadingFailed"
                                and not e["params"].get("canceled")]
    report["jsErrors"] = [e["params"]["exceptionDetails"].get("exception", {}).get("description")
                          or e["params"]["exceptionDetails"].get("text")
                          for e in events if e["method"] == "Runtime.exceptionThrown"]
    report["consoleErrors"] = [e["params"]["entry"]["text"] for e in events
                               if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
    report["consoleErrors"] += [" ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])
                                for e in events if e["method"] == "Runtime.consoleAPICalled"
                                and e["params"]["type"] in ("error", "assert")]
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    return report


def shoot(browser: Chromium, session: str, path: Path):
    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def problems(report: dict) -> list[str]:
    out = []
    for key in ("external", "failedRequests", "jsErrors", "consoleErrors", "mathErrors", "rawTex",
                "brokenImages", "lowResImages", "emptyFigures", "errorOutputs", "tracebacks"):
        if report[key]:
            out.append(f"{key}: {report[key]}")
    if report["mathSource"] and (not report["mathjax"] or report["mathTypeset"] == 0):
        out.append(f"math not typeset: {report['mathSource']} math elements, "
                   f"{report['mathTypeset']} typeset, MathJax loaded: {report['mathjax']}")
    out += [f"broken video {v['src']}" for v in report["videos"] if v["error"] or not v["src"]]
    out += ["animation without a frame" for a in report["animations"] if not a["ok"]]
    return out


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if exe is None:
        pytest.skip("no chromium found (install Debian's 'chromium' package; .ci/run does so as root)")
    b = Chromium(exe)
    b.send("Browser.getVersion", timeout=60)
    yield b
    b.close()


@pytest.mark.book
def test_every_page_renders_offline(built_book, browser):
    html = built_book
    pages = sorted(p for p in html.rglob("*.html") if not p.relative_to(html).parts[0].startswith("_"))
    assert pages, f"no pages in {html}"
    key = {f"{name}.html" for name in KEY_PAGES} & {p.relative_to(html).as_posix() for p in pages}
    key = key or {"intro.html"}
    failures, typeset = {}, 0
    for page in pages:
        rel = page.relative_to(html).as_posix()
        refresh = re.search(r'http-equiv="refresh"[^>]*url=([^"\'>]+)', page.read_text(), re.I)
        if refresh:  # a redirect (index.html): its target must exist; the target is checked itself
            assert (page.parent / refresh.group(1)).is_file(), f"{rel} redirects to a missing page"
            continue
        shot = SCREENSHOTS / (rel.replace("/", "--").removesuffix(".html") + ".png") if rel in key else None
        report = check_page(browser, html, page, shot)
        typeset += report["mathTypeset"]
        bad = problems(report)
        source = html / "_sources" / (rel.removesuffix(".html") + ".md")
        if source.is_file() and "{code-cell}" in source.read_text():
            # a chapter that executes code offers its executed notebook for download
            notebooks = [Path(urllib.parse.unquote(urllib.parse.urlsplit(u).path)) for u in report["downloadNotebook"]]
            if not notebooks or not all(n.is_file() for n in notebooks):
                bad.append(f"no downloadable notebook: {report['downloadNotebook']}")
        if bad:
            failures[rel] = bad
    assert not failures, json.dumps(failures, indent=1)[:6000]
    assert typeset > 0, "no page has typeset math"


BROKEN_PAGE = r"""<!DOCTYPE html><html><head><title>broken</title>
<script src="https://cdn.invalid/mathjax.js"></script></head>
<body><main>
<p>Inline <span class="math notranslate nohighlight">\(x^2\)</span> left as TeX.</p>
<img src="missing.png" alt="gone">
<figure><img src="_images/blurry.svg" style="width: 100px"></figure>
<figure><figcaption>A figure without its image</figcaption></figure>
<div class="cell_output"><div class="output stderr"><pre>RuntimeWarning: overflow</pre></div></div>
<script>undefinedFunction();</script>
</main></body></html>
"""


def test_checker_catches_a_broken_page(browser, tmp_path):
    """The checks above can fail: a page with each defect is reported for each."""
    page = tmp_path / "broken.html"
    page.write_text(BROKEN_PAGE)
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "blurry.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50"><rect width="50" height="50"/></svg>')
    report = check_page(browser, tmp_path, page)
    found = "\n".join(problems(report))
    assert report["external"] == ["https://cdn.invalid/mathjax.js"]
    for expected in ("failedRequests", "missing.png", "rawTex", "blurry.svg: 50 px shown at 100 px", "emptyFigures", "errorOutputs",
                     "RuntimeWarning", "undefinedFunction", "math not typeset"):
        assert expected in found, (expected, found)


def test_checker_passes_a_clean_page(browser, tmp_path):
    (tmp_path / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
                                      '<rect width="4" height="4"/></svg>')
    page = tmp_path / "clean.html"
    page.write_text('<!DOCTYPE html><html><body><main><figure><img src="dot.svg"></figure>'
                    '<p>Plain prose costs $5 and $6.</p></main></body></html>')
    assert problems(check_page(browser, tmp_path, page)) == []


# Runs in the page: the WCAG 2 contrast ratio of each caption (and verdict label) against the
# background it is drawn on, and what sticks out of the viewport sideways.
READABILITY_JS = r"""
(() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({r: top.r * top.a + bottom.r * (1 - top.a),
                                  g: top.g * top.a + bottom.g * (1 - top.a),
                                  b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
  const background = (el) => {
    const layers = [];
    for (let a = el; a; a = a.parentElement) {
      const c = parse(getComputedStyle(a).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};  // the canvas behind everything
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const luminance = (c) => {
    const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  };
  const ratio = (el) => {
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const measure = (selector) => [...document.querySelectorAll(selector)]
    .filter((el) => (el.textContent || '').trim() && el.getClientRects().length)
    .map((el) => ({text: el.textContent.trim().slice(0, 60), ratio: ratio(el)}));
  const main = document.querySelector('main') || document.body;
  const vw = document.documentElement.clientWidth;
  const inScroller = (el) => {
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  // the theme's drawers (the page's contents, the navigation) wait off-screen until opened
  const drawer = (el) => !!el.closest('.bd-sidebar-secondary, .bd-sidebar-primary')
    || [...function* () { for (let a = el; a; a = a.parentElement) yield a; }()]
      .some((a) => getComputedStyle(a).position === 'fixed');
  const sticking = [...main.querySelectorAll('*')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > vw + 1 && !inScroller(el) && !drawer(el);
  }).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}: right edge ${
    Math.round(el.getBoundingClientRect().right)} px`);
  return JSON.stringify({
    theme: document.documentElement.dataset.theme,
    captions: measure('figure figcaption p, figure figcaption .caption-number, figcaption .caption-text'),
    verdicts: measure('.adamdyn-verdict, .adamdyn-verdicts td p'),
    pageWidth: document.documentElement.scrollWidth, viewport: vw,
    sticking: sticking.slice(0, 10),
  });
})()
"""

READABILITY_PAGES = ["chapters/flat", "chapters/valleys"]


@pytest.mark.book
def test_captions_readable_in_both_modes_and_no_sideways_page_at_390px(built_book, browser, tmp_path):
    """Screenshots at 1400 and 390 px, light and dark (in the test's folder); captions and verdict
    labels at least 4.5:1 against their background (WCAG AA); nothing but scrollable blocks wider
    than a phone's screen."""
    failures, ratios = [], {}
    for name in READABILITY_PAGES:
        page = built_book / f"{name}.html"
        for width in (1400, 390):
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            try:
                browser.send("Page.enable", session=session)
                browser.send("Emulation.setDeviceMetricsOverride",
                             {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": width < 600},
                             session=session)
                browser.events.clear()
                browser.send("Page.navigate", {"url": page.as_uri()}, session=session)
                browser.wait_for("Page.loadEventFired", session, timeout=60)
                time.sleep(0.5)
                for mode in ("light", "dark"):
                    browser.send("Runtime.evaluate", {"expression": f"document.documentElement.dataset.theme = '{mode}'"},
                                 session=session)
                    time.sleep(0.3)
                    shot = tmp_path / f"{name.replace('/', '--')}-{width}-{mode}.png"
                    shoot(browser, session, shot)
                    assert shot.stat().st_size > 10_000, f"{shot.name} looks empty"
                    # and the first figure with its caption, at the bottom of the window
                    browser.send("Runtime.evaluate", {"expression": "document.querySelector('figure')"
                                                      ".scrollIntoView({block: 'end'})"}, session=session)
                    time.sleep(0.2)
                    shoot(browser, session, shot.with_name(shot.stem + "-figure.png"))
                    browser.send("Runtime.evaluate", {"expression": "window.scrollTo(0, 0)"}, session=session)
                    result = browser.send("Runtime.evaluate", {"expression": READABILITY_JS, "returnByValue": True},
                                          session=session)
                    report = json.loads(result["result"]["value"])
                    assert report["theme"] == mode
                    where = f"{name} at {width} px, {mode}"
                    assert report["captions"], f"{where}: no figure caption found"
                    low = min(report["captions"], key=lambda c: c["ratio"])
                    ratios[where] = round(low["ratio"], 2)
                    for kind in ("captions", "verdicts"):
                        failures += [f"{where}: {kind[:-1]} {c['text']!r} at {c['ratio']:.2f}:1"
                                     for c in report[kind] if c["ratio"] < 4.5]
                    if width < 600 and (report["sticking"] or report["pageWidth"] > report["viewport"] + 1):
                        failures.append(f"{where}: page {report['pageWidth']} px wide in a {report['viewport']} px "
                                        f"viewport; sticking out: {report['sticking']}")
            finally:
                browser.send("Target.closeTarget", {"targetId": target})
            browser.events = [e for e in browser.events if e.get("sessionId") != session]
    print("lowest caption contrast per page, width and mode:", json.dumps(ratios, indent=1))
    print("screenshots:", tmp_path)
    assert not failures, "\n".join(failures[:40])
