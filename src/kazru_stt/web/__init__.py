"""The web interface: server-rendered pages (Jinja2, htmx, small plain JavaScript modules)
on the same services and the same session cookies as the API."""
