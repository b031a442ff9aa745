"""The web console for people: server-rendered pages at ``/console`` over the services."""

from sealbook.console.app import create_console

__all__ = ["create_console"]
