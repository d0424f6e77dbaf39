"""The API's routers, one per area; :func:`hashrisk.web.app.create_app` includes them in this order."""
