"""Services (use cases). A service owns the transaction: one per business event."""
