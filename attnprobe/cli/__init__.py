"""The ``attnprobe`` command line: ``main`` (the group and its error handling) and one
module per command group (``analysis``, ``models``, ``alignments``, ``toy``)."""
