"""The ``sqlprovider`` command."""
