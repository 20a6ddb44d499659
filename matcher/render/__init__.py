"""Text renderings of matches and catalog reports."""
