"""Turning the template into a new app, and bringing later template changes into that app.

The pure parts (name rules, rename rules, demo markers, the answers record, merge planning) are
separate from the git and file-system work (:mod:`templating.git`,
:mod:`templating.generate`, :mod:`templating.updating`). See docs/new-app.md.

Nothing under ``templating/`` is renamed when an app is generated: it names the template it
comes from, and the app needs exactly this code to re-render that template on ``update``.
"""
