"""Partner feeds: what a partner's feed holds (a typed view), then one writer per format."""
