"""The analysis driver: ``analyze()`` (``driver``) and ``compare()`` (``comparison``).

Import the module you need; this package imports nothing itself.
"""
