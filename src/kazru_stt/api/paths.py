"""Where the service mounts the files that are the same for everyone (one home for the
prefixes the request guard lets browsers cache), and the pages a read-only link opens."""

from __future__ import annotations

STATIC_URL = "/static"  # the pages' scripts, styles and images (web/static)
DOCS_ASSETS_URL = "/docs/assets"  # Swagger UI's files, served from the package
SHARED_URL = "/s/"  # a read-only link is this and its token (web/shared)
