"""Moderation: the content pipeline (render, sanitise, policy filters) and moderator tools."""
