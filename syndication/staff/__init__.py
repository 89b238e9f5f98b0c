"""Staff accounts and tokens, and the staff web UI over the services of the other domains."""
