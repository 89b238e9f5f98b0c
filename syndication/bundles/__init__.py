"""Republication bundles: one piece for one partner, with everything its license requires."""
