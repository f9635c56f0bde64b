"""A tiny local Sphinx extension for the book (loaded through `_config.yml`).

sphinx-thebe registers its inline configuration script once per read phase; when a
build reads documents more than once (as Jupyter Book's does), every page declares
`const THEBE_JS_URL` twice and the browser reports a JavaScript error. We remove
duplicate script registrations before any page is written.
"""

from __future__ import annotations


def _unique(scripts: list) -> list:
    seen, unique = set(), []
    for js in scripts:
        # The same inline script may be registered with filename None and with "": treat those alike.
        attrs = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (getattr(js, "filename", str(js)) or "", attrs)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    return unique


def _dedupe_page_scripts(app, pagename, templatename, context, doctree) -> None:
    if context.get("script_files"):
        context["script_files"][:] = _unique(context["script_files"])


def setup(app):
    # html-page-context is emitted with emit_firstresult: run first, before a handler that returns a template
    app.connect("html-page-context", _dedupe_page_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
