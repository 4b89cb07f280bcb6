"""Store: SQLite (sqlite-utils) with migrations, evidence chain and history queries."""
