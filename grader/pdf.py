"""The whole book as one PDF, built offline: Jupyter Book's single-page HTML printed by headless Chromium.

    python -m grader.pdf                       # build _build/singlehtml, print _build/pdf/looking-inside-the-model.pdf
    python -m grader.pdf --no-build --out book.pdf

The single-page build reuses the execution cache of `jupyter-book build .`, so after an HTML build it
executes nothing. Chromium (Debian's package, through Playwright) opens the page with the network off,
waits for MathJax to typeset every formula, and prints it on A4 with a clickable table of contents, PDF
bookmarks, page numbers, code wrapped at the margin instead of cut, and each chapter on a new page.
`python -m grader check` then verifies the PDF (`verify`): enough pages, every figure of the HTML
embedded as an image, no formula left as raw TeX, every chapter's title present.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

from .catalog import ROOT
from .website import CHROMIUM_FLAGS, serve

SINGLE = ROOT / "_build" / "singlehtml"
DEFAULT_OUT = ROOT / "_build" / "pdf" / "looking-inside-the-model.pdf"

# What the printed page hides and how it lays out what it keeps.
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article, .prev-next-area,
.header-article, .bd-header-article, .headerlink, .toggle-secondary-sidebar, .bd-footer-content,
.search-button-field, .theme-switch-button, .sidebar-toggle, .skip-link, #pst-back-to-top,
.bd-header-announcement, .copybtn { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width, .bd-container,
.bd-container__inner { max-width: none !important; width: auto !important; margin: 0 !important;
  padding: 0 !important; flex: none !important; display: block !important; }
body { font-size: 10.5pt; }
pre, .highlight pre, .output pre, div.cell_output pre { white-space: pre-wrap !important;
  word-break: break-word; overflow: visible !important; max-height: none !important; font-size: 8.5pt; }
div.cell_output, .output, .highlight { overflow: visible !important; max-height: none !important; }
img { max-width: 100% !important; height: auto !important; page-break-inside: avoid; break-inside: avoid; }
figure, .figure, div.cell_input, div.cell_output, div.highlight { page-break-inside: avoid; break-inside: avoid; }
table { font-size: 8.5pt; }
h1, h2, h3 { page-break-after: avoid; break-after: avoid; }
section.pdf-chapter { page-break-before: always; break-before: page; }
#jb-print-docs-body > h1 { font-size: 28pt; margin: 30mm 0 10mm; }
nav.pdf-toc { page-break-after: always; break-after: page; }
nav.pdf-toc ol { list-style: none; padding-left: 0; }
nav.pdf-toc ol ol { padding-left: 1.5em; font-size: 95%; }
nav.pdf-toc a { text-decoration: none; color: inherit; }
mjx-container[display="true"] { overflow: visible !important; }
"""

# Marks each chapter's section (in the single page, a document starts at a `<span id="document-...">`, its title an
# h2) and replaces the theme's print contents (chapters only) with one that lists their sections too.
PREPARE = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const chapters = [...document.querySelectorAll('span[id^="document-"]')]
    .map(s => s.nextElementSibling).filter(s => s && s.tagName === 'SECTION' && s.querySelector(':scope > h2'));
  chapters.forEach(s => s.classList.add('pdf-chapter'));
  const title = h => h.textContent.replace(/#$/, '').trim();
  const nav = document.createElement('nav');
  nav.className = 'pdf-toc';
  nav.innerHTML = '<h2>Contents</h2>';
  const top = document.createElement('ol');
  for (const s of chapters) {
    const item = document.createElement('li');
    item.innerHTML = `<a href="#${s.id}">${title(s.querySelector(':scope > h2'))}</a>`;
    const subs = [...s.querySelectorAll(':scope > section')].filter(x => x.querySelector(':scope > h3'));
    if (subs.length) {
      const inner = document.createElement('ol');
      for (const x of subs) {
        inner.insertAdjacentHTML('beforeend', `<li><a href="#${x.id}">${title(x.querySelector(':scope > h3'))}</a></li>`);
      }
      item.appendChild(inner);
    }
    top.appendChild(item);
  }
  nav.appendChild(top);
  const old = document.querySelector('#jb-print-toc');
  if (old) { old.replaceWith(nav); } else { document.body.prepend(nav); }
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const images = [...article.querySelectorAll('img')];
  await Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return {
    chapters: chapters.map(s => title(s.querySelector(':scope > h2'))),
    images: images.filter(i => i.naturalWidth > 0).length,
    badImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    math: document.querySelectorAll('mjx-container').length,
  };
}"""

FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#666;">'
          '<span class="title"></span> &middot; <span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def build_singlehtml() -> None:
    command = ["jupyter-book", "build", str(ROOT), "--builder", "singlehtml", "-W", "-n", "--keep-going"]
    from .execute import book_env

    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=book_env())
    if completed.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed:\n{(completed.stdout + completed.stderr)[-4000:]}")


def print_pdf(html_dir: Path, out: Path, chromium: str) -> dict:
    """Print the single page (`html_dir/book/intro.html`) to `out`; return what it held (chapters, images,
    formulas)."""
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    # Jupyter Book writes the single page at book/intro.html with links relative to the build's root: print
    # a copy that sits at the root, where those links resolve.
    page_file = html_dir / "whole-book.html"
    page_file.write_text((html_dir / "book" / "intro.html").read_text())
    server, base = serve(html_dir)
    outside: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1100, "height": 1400})

            def offline(route):
                if urlparse(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", offline)
            page = context.new_page()
            page.goto(urljoin(base, page_file.name), wait_until="load")
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            found = page.evaluate(PREPARE)
            page.pdf(path=str(out), format="A4", print_background=True, prefer_css_page_size=True,
                     display_header_footer=True, header_template="<span></span>", footer_template=FOOTER,
                     outline=True, tagged=True)
            browser.close()
    finally:
        server.shutdown()
    found["outside"] = outside
    return found


def verify(pdf: Path, found: dict | None = None) -> list[str]:
    """Problems a reader would see in the PDF: too few pages, figures missing, raw TeX, chapters missing."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    problems = []
    pages = len(reader.pages)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    embedded = sum(len(page.images) for page in reader.pages)
    if pages < 100:
        problems.append(f"only {pages} pages: the book has eight chapters and three appendices")
    for chapter in (found or {}).get("chapters", []):
        if chapter.split()[0] not in text:
            problems.append(f"the chapter {chapter!r} is not in the PDF's text")
    if found is not None:
        if found["badImages"]:
            problems.append(f"images that did not load before printing: {found['badImages'][:5]}")
        if embedded < found["images"]:
            problems.append(f"{found['images']} figures on the page but {embedded} images in the PDF")
        if found["outside"]:
            problems.append(f"the page tried to reach the network: {found['outside'][:3]}")
    raw = re.findall(r"\\\(|\\\[|\$\$|\\frac|\\sqrt|\\mathrm", text)
    if raw:
        problems.append(f"{len(raw)} pieces of raw TeX in the text (math not typeset), e.g. {raw[:3]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--no-build", action="store_true", help="print the existing _build/singlehtml")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: install Debian's `chromium` package", file=sys.stderr)
        return 1
    started = time.time()
    if not args.no_build:
        build_singlehtml()
    if not (SINGLE / "book" / "intro.html").exists():
        print(f"no {SINGLE / 'book' / 'intro.html'}: build it first (drop --no-build)", file=sys.stderr)
        return 1
    built = time.time()
    out = Path(args.out).resolve()
    found = print_pdf(SINGLE, out, args.chromium)
    problems = verify(out, found)
    from pypdf import PdfReader

    pages = len(PdfReader(str(out)).pages)
    print(f"{out}: {pages} pages, {out.stat().st_size / 2**20:.1f} MiB, {found['images']} figures, "
          f"{found['math']} formulas; single-page build {built - started:.0f} s, printing {time.time() - built:.0f} s")
    if problems:
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
