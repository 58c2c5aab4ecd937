"""The registry app: models, forms, views, selectors (reads) and services (writes)."""
