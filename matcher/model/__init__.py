"""Data types and the rules' data: profile, entry facts, vocabulary, verdict, cost model,
ranking policy."""
