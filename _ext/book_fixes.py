"""Small fixes to the HTML that Jupyter Book 1 produces, found by the browser check (grader/website.py).

- sphinx-thebe adds its configuration script once per read of the sources, so a rebuild can declare
  `const THEBE_JS_URL` twice on a page, a JavaScript error: keep one copy of each script.
- pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit unless a default mode is set.
- Sphinx numbers figures across the whole book (chapter 7 would start at "Fig. 20") unless the toctree is
  numbered, and Jupyter Book restarts a numbered toctree's count at every part. Figures, tables and code
  blocks are numbered per chapter instead: "Fig. 7.1", and "Fig. A.1" in the first appendix.
- The notebooks' `check()` cells must show what a new learner sees, never the verdicts of whoever builds the
  book: the kernels that execute the notebooks inherit `GRADER_BOOK_BUILD=1`, under which `check()` grades
  freshly generated stubs (grader/notebook.py).
"""
import os


def _deduplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # The same script may come once with filename None and once with ''.
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _default_mode(app, config):
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}


def _chapter_label(docname: str, appendices: list[str]) -> str | None:
    name = docname.rsplit("/", 1)[-1]
    if name.startswith("ch") and name[2:4].isdigit():
        return str(int(name[2:4]))
    if docname in appendices:
        return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[appendices.index(docname)]
    return None


def _per_chapter(env) -> dict:
    """The figure numbers Sphinx assigned, renumbered from 1 within each chapter, with its label in front."""
    order = list(env.toctree_includes.get(env.config.root_doc, []))
    for docname in list(order):
        order += [d for d in env.toctree_includes.get(docname, []) if d not in order]
    appendices = [d for d in order if d.rsplit("/", 1)[-1].startswith("appendix")]
    numbered = {}
    for docname, by_type in env.toc_fignumbers.items():
        label = _chapter_label(docname, appendices)
        numbered[docname] = {}
        for figtype, figures in by_type.items():
            ranked = sorted(figures, key=lambda figure_id: figures[figure_id])
            numbered[docname][figtype] = {figure_id: ((label, i) if label else (i,))
                                          for i, figure_id in enumerate(ranked, start=1)}
    return numbered


def _number_per_chapter():
    from sphinx.environment.collectors.toctree import TocTreeCollector

    original = TocTreeCollector.assign_figure_numbers
    if getattr(original, "_per_chapter", False):
        return

    def assign_figure_numbers(self, env):
        before = env.toc_fignumbers
        original(self, env)
        env.toc_fignumbers = _per_chapter(env)
        changed = set(before) | set(env.toc_fignumbers)
        return [d for d in changed if before.get(d) != env.toc_fignumbers.get(d)]

    assign_figure_numbers._per_chapter = True
    TocTreeCollector.assign_figure_numbers = assign_figure_numbers


def setup(app):
    _number_per_chapter()
    os.environ["GRADER_BOOK_BUILD"] = "1"  # read by grader.notebook.check in the executing kernels
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _deduplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
