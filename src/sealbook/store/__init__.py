"""Storage: SQLAlchemy Core tables, engines, and the repositories services call."""
