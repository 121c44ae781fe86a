"""Shared primitives for Kindred; imports no feature package."""
