"""The edge: the only package that imports zeep, requests or lxml.

``wsdl`` parses the cached WSDLs and builds requests with zeep; ``soap`` and ``http`` encode
a built request for a host and parse a reply (one module per protocol family), through
``xml``, the one hardened XML parser; ``codec`` picks the family; ``sync`` carries requests
with requests.
"""
