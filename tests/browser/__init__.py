"""Browser tests of the sandbox inbox, in Debian's headless Chromium (see conftest.py)."""
