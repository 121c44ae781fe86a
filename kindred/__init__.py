"""Kindred's composition root: the app factory, the lifespan and the CLI."""
