"""What comes back from the gateway after a send: replies (MO), delivery reports, opt-outs.

Pure decoders: text in, typed values out, with no I/O, no journal and no network. A line
or record that cannot be decoded is kept whole as an :class:`~.decoded.Unreadable` beside
the values, never dropped: ``mo`` is a destructive read, so what is not kept is lost.

- ``dates``: the gateway's timestamps as aware China-time datetimes
- ``decoded``: ``Decoded`` (values plus what could not be read), ``Unreadable``
- ``replies``: ``Reply``, ``decode_replies`` (``mo``, ``mo2``, ``RECSMS_UTF8`` lines)
- ``push``: ``decode_push`` (the ``args=`` value the gateway POSTs)
- ``reports``: ``Report``, ``DeliveryClass``, ``TolerantReportParser``
- ``layouts``: ``LAYOUTS``, plausible report layouts the sandbox emits and the parser reads
- ``optout``: ``OptOut``, the unsubscribe keywords
"""
