"""Routes grouped like Bitget's paths."""
