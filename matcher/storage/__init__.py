"""All SQL: the database, its migrations, the catalog, runs and the refresh log."""
