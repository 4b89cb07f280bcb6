"""``amendwatch web``: the compliance team's web application (Starlette, served by uvicorn).

Server-rendered pages (Jinja2, autoescaped) over :class:`amendwatch.api.Amendwatch`, with
accounts, sessions, CSRF tokens, roles and an audit log; see docs/web.md. ``app.create_app``
builds the ASGI application; ``server.serve`` runs it. Nothing here is imported by the other
commands: starlette, uvicorn and argon2 load only when the web application or ``amendwatch
user`` runs.
"""
