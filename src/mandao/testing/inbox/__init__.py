"""The sandbox inbox: what the sandbox accepted, seen in a browser and read by end-to-end tests.

``SandboxGateway(inbox=True)`` serves it on a loopback port of its own (``gw.inbox_url``);
``gw.messages()``, ``gw.message(id)``, ``gw.latest(mobile)`` and ``gw.clear()`` read and
empty the same view from Python, with the inbox server on or off. The modules:

- ``_text``: the pure reading of one text: billed parts, signature, encoding warnings, codes
- ``_message``: ``InboxMessage`` and ``InboxPage``, the values both sides hand out
- ``_view``: ``InboxView``, the ledger numbered and paged, threads, delivery status
- ``_jsonl``: ``LedgerFile``, the ledger as JSON Lines written as it goes
- ``_hub``, ``_sse``: the event log the ledger's writes feed, and the event stream
- ``_app``, ``_http``, ``_api``, ``_pages``, ``_server``: the HTTP side (imported only
  when an inbox starts: Jinja2 and ``http.server`` cost nothing otherwise)

This package's ``__init__`` imports nothing, so the light modules load alone.
"""
