"""The HTTP API (FastAPI): capture, activities and web forms. Built by ``api.app.create_app``."""
