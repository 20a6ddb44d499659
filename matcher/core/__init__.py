"""The pure core: recognise, match one patient, rank, cost, look up. No I/O."""
