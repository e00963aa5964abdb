"""Turning the template into a new app, and bringing later template changes into that app.

The pure parts (name rules, rename rules, demo markers, the answers record, merge planning) are
separate from the git and file-system work (:mod:`origin.template.git`,
:mod:`origin.template.generate`, :mod:`origin.template.updating`). See docs/new-app.md.

Nothing under ``origin/template/`` is renamed when an app is generated: it names the template it
comes from, and the app needs exactly this code to re-render that template on ``update``.
"""
