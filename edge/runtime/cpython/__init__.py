"""What runs on the host's CPython, never uploaded to Cloudflare: the CPython edge (its HTTP
server, upstream client, cache and signature checks) and the launcher that serves the worker
under workerd through ``wrangler dev``."""
