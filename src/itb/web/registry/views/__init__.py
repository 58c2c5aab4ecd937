"""Views: thin. Reads go through the selectors (site-scoped), writes through the services
(validated by the core, audited); the templates show what they return."""
