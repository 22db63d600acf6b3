"""The `kazru` command line."""
