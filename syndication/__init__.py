"""Syndication: syndicated articles as data, and everything partners consume from it."""
