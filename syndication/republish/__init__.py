"""What a partner receives for one piece: the typed view, the shared HTML fragment, the pixel.

Feeds and bundles both render a piece through `build_view` and `render_fragment`, so the
HTML a partner republishes is the same wherever it came from.
"""
