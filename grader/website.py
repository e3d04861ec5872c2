"""Open every page of the built book in headless Chromium and check what a reader would see.

`python -m grader.website [--html _build/html] [--screenshots DIR]`, also run by `python -m grader check`.
For every page: no JavaScript error; every image loaded and has alt text; MathJax typeset the math with
the network off (no raw `\\(` left); every internal link and anchor resolves. The search page must find a
term from chapter 7. Screenshots of the intro and of one chapter are saved for a person to look at.
Uses Debian's Chromium (`/usr/bin/chromium`) through Playwright; no browser is ever downloaded.
"""
from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from .catalog import ROOT

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SEARCH_TERM = "register_forward_hook"
SEARCH_PAGE = "ch07_hooks"
SCREENSHOT_PAGES = [("intro", "book/intro.html"), ("chapter", "book/ch07_hooks.html"), ("chapter", "book/ch01_callbacks.html")]


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Ids:
    parser = _Ids()
    parser.feed(path.read_text(errors="replace"))
    return parser


def pages(html_dir: Path) -> list[Path]:
    found = sorted(html_dir.glob("book/*.html"))
    return found + [p for p in (html_dir / "search.html", html_dir / "genindex.html") if p.exists()]


def broken_links(html_dir: Path, page: Path) -> list[str]:
    problems = []
    for href in _parse(page).links:
        parsed = urlparse(href)
        if parsed.scheme or href.startswith(("mailto:", "//", "javascript:")):
            continue
        target = page if not parsed.path else (page.parent / unquote(parsed.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"link {href!r} points to a missing file")
            continue
        if parsed.fragment and target.suffix == ".html" and unquote(parsed.fragment) not in _parse(target).ids:
            problems.append(f"link {href!r}: no anchor #{parsed.fragment} in {target.relative_to(html_dir)}")
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(html_dir: Path):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


PAGE_PROBE = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const images = [...document.querySelectorAll('article img, main img, .bd-article img')];
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach(n => n.remove());
  const text = clone.textContent;
  return {
    badImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    noAlt: images.filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.getAttribute('src')),
    mathSources: document.querySelectorAll('.math, span.math, div.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    rawMath: (text.match(/\\\(|\\\[|\$\$/g) || []).length,
  };
}"""


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--html", default=str(ROOT / "_build" / "html"))
    args.add_argument("--screenshots", default=str(ROOT / "_build" / "screenshots"))
    args.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    options = args.parse_args(argv)
    html_dir = Path(options.html).resolve()
    if not (html_dir / "book" / "intro.html").exists():
        print(f"no built book in {html_dir}: run `jupyter-book build .` first", file=sys.stderr)
        return 1
    if not Path(options.chromium).exists():
        print(f"no Chromium at {options.chromium}: install Debian's `chromium` package (apt-get install chromium)",
              file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    problems: dict[str, list[str]] = {}
    server, base = serve(html_dir)
    shots = Path(options.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=options.chromium, headless=True, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            outside: list[str] = []

            def offline(route):
                if urlparse(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:  # the network is off: anything the book needs must be in _build/html
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", offline)
            for path in pages(html_dir):
                name = str(path.relative_to(html_dir))
                errors: list[str] = []
                page = context.new_page()
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                outside.clear()
                page.goto(urljoin(base, name), wait_until="load")
                probe = page.evaluate(PAGE_PROBE)
                found = [f"JavaScript error: {e}" for e in errors]
                found += [f"image did not load: {src}" for src in probe["badImages"]]
                found += [f"image without alt text: {src}" for src in probe["noAlt"]]
                if probe["mathSources"] and not probe["typeset"]:
                    found.append(f"{probe['mathSources']} math elements, none typeset by MathJax")
                if probe["rawMath"]:
                    found.append(f"{probe['rawMath']} raw math delimiters left in the text")
                found += [f"tried to reach the network: {url}" for url in outside]
                found += broken_links(html_dir, path)
                if found:
                    problems[name] = found
                page.close()
            problems.update(_check_search(context, base, html_dir))
            taken = set()
            for label, page_name in SCREENSHOT_PAGES:
                if label in taken or not (html_dir / page_name).exists():
                    continue
                page = context.new_page()
                page.goto(urljoin(base, page_name), wait_until="load")
                page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
                target = shots / f"{label}.png"
                page.screenshot(path=str(target))
                print(f"screenshot of {page_name}: {target}")
                taken.add(label)
                page.close()
            browser.close()
    finally:
        server.shutdown()
    checked = len(pages(html_dir))
    if problems:
        for name, found in problems.items():
            print(f"{name}:", file=sys.stderr)
            for problem in found:
                print(f"  - {problem}", file=sys.stderr)
        print(f"{len(problems)} of {checked} pages have problems", file=sys.stderr)
        return 1
    print(f"{checked} pages checked in headless Chromium: no JavaScript error, every image loaded with alt text, "
          f"math typeset offline, every internal link resolves, search finds {SEARCH_TERM!r}")
    return 0


def _check_search(context, base: str, html_dir: Path) -> dict[str, list[str]]:
    if not (html_dir / "book" / f"{SEARCH_PAGE}.html").exists():
        return {"search.html": [f"book/{SEARCH_PAGE}.html is not built, so search cannot be checked"]}
    page = context.new_page()
    page.goto(urljoin(base, f"search.html?q={SEARCH_TERM}"), wait_until="load")
    try:
        page.wait_for_function(
            f"() => [...document.querySelectorAll('#search-results a')].some(a => a.href.includes('{SEARCH_PAGE}'))",
            timeout=20_000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError
        return {"search.html": [f"searching {SEARCH_TERM!r} does not list {SEARCH_PAGE}"]}
    finally:
        page.close()
    return {}


if __name__ == "__main__":
    sys.exit(main())
