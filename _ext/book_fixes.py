"""Small fixes to the HTML that Jupyter Book 1 produces, found by the browser check (grader/website.py).

- sphinx-thebe adds its configuration script once per read of the sources, so a rebuild can declare
  `const THEBE_JS_URL` twice on a page, a JavaScript error: keep one copy of each script.
- pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit unless a default mode is set.
"""


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


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _deduplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
