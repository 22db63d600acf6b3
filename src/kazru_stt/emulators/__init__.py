"""Local stand-ins for external services, for tests and development (entry-point layer)."""
