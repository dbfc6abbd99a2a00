"""Who else uses the serial: the shared admission state and retry budget of a serial.

``store`` lines up one process's callers over a state kept in memory (``local``), in
a file beside an SQLite journal (``files``), or in a PostgreSQL journal's database
(``postgres``); ``board`` is what those two keep, and the logic over it.
"""
