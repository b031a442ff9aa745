"""The ``sealbook`` command."""
