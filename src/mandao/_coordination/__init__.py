"""Who else uses the serial: the shared admission state and retry budget of a serial.

``store`` lines up one process's callers over a state kept in memory (``LocalState``),
beside an SQLite journal (``sqlite``), or in a PostgreSQL journal's database
(``postgres``); ``leases`` is the database states' logic.
"""
