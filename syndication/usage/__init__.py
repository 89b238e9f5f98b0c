"""Append-only usage events (feed pulls, bundle downloads, pixel hits) and reports over them."""
