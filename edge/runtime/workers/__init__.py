"""The edge on Cloudflare Workers (Pyodide in workerd): the runtime's ports over the Workers
APIs (fetch, the Cache API, Web Crypto, ``request.cf``). This folder is uploaded with the worker."""
