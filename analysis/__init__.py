"""Data side of the integrations study: load, validate, reconcile, model, panel, simulate."""
