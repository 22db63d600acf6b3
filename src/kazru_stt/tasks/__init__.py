"""Queue wiring: the Celery app, its tasks, and the worker's periodic sweep."""
