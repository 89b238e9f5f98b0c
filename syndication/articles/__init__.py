"""Articles and their parts: sanitising, revisions, corrections, withdrawal, import."""
