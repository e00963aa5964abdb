"""The ``outpost`` command's toolkit, which every package's verbs use: argument types
(:mod:`.arguments`), one-line failures and exit statuses (:mod:`.failures`), binding the servers'
sockets (:mod:`.listening`) and running a set of verbs (:mod:`.command`).

Standard library only, so that any package may import it without pulling another one in. Unlike
the rest of ``shared``, :mod:`.listening` binds sockets: it is for the command, and the worker
never imports this package.
"""
