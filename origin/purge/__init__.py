"""Purges that reach every Cloudflare location: a transactional outbox and its dispatcher.

A write that invalidates cache tags records the purge in the outbox in its own database
transaction (:mod:`origin.purge.outbox`); ``outpost purger`` (:mod:`origin.purge.dispatcher`)
delivers the recorded purges to Cloudflare's purge API (:mod:`origin.purge.cloudflare`) within the
plan's limits (:mod:`origin.purge.limits`) and deletes a row only once Cloudflare acknowledged it.
See docs/edge.md, "How purges reach every location".
"""
