"""The web shell: a FastAPI JSON API over the library and a live dashboard (extra ``web``).

Importing this package does not import FastAPI; :func:`hashrisk.web.app.create_app` does. Run it with
``hashrisk serve`` (localhost by default).
"""
