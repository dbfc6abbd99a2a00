"""The edge: the only package that imports zeep, requests, httpx or lxml.

``wsdl`` parses the cached WSDLs and builds requests with zeep; ``soap`` and ``http`` encode
a built request for a host and parse a reply (one module per protocol family), through
``xml``, the one hardened XML parser (``structured`` reads the results that are structures);
``codec`` picks the family and scrubs what a server says of the request's secrets. ``sync``
carries requests with requests (``bounded``: one deadline for a whole reply), ``aio`` with
httpx; both read a reply's body through ``body``, which caps and decompresses it.
"""
