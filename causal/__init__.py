"""Causal side of the integrations study: estimation, refutation, heterogeneity, report."""
