"""The client toolkit: credential vault, leaked-key scanner, portfolio, tax and bots.

It talks to exchanges only over their public APIs, through ccxt, and never imports the
server's modules (an import-linter contract in ``make lint`` holds that line), so every
tool here works against any exchange ccxt supports as well as against Sealbook.
"""
