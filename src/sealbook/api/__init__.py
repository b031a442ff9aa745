"""HTTP transport in Bitget v2 shape: the key gate, the envelope, the routes."""
