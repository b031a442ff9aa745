"""Sealbook: a self-hostable exchange speaking Bitget's REST v2 wire format."""

__all__ = ["__version__"]

__version__ = "0.1.0"
