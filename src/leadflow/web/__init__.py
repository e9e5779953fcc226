"""The web pages: server-rendered (Jinja2) for the people who work leads.

:func:`mount` adds them to the API's FastAPI app (``create_app`` calls it). Layout::

    session.py       signed session cookies (itsdangerous), CSRF tokens, flash messages
    deps.py          the signed-in user, checked forms, rendering, web errors
    routes_auth.py   sign in, sign out, the home page by role
    routes_sales.py  my queue, the lead page and its dispositions, the team board
    routes_marketing.py  the dashboard, inquiries, the quarantine, the definitions
    routes_admin.py  the users page
    static/          the pages' own CSS and a little JavaScript (no third-party files)

Templates are in ``leadflow/templates/web/``. Pages work without JavaScript; the script
only counts SLA deadlines down and asks before a reject.
"""

from __future__ import annotations

from leadflow.web.setup import mount

__all__ = ["mount"]
