"""Who else uses the serial: the shared admission state and retry budget of a serial.

``memory`` keeps them for the threads of one process.
"""
