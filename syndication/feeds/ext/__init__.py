"""feedgen extensions for what feedgen lacks or mangles, one XML namespace per module."""
