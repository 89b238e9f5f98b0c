"""Partners, their keys (hashing, rotation, revocation) and the partner guard."""
