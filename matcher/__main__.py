"""`python -m matcher` runs the cartmatch command line."""

from matcher.cli import main

main()
