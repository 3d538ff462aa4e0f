"""Recognition engines behind one seam (``base.Engine``), created by name (``registry``).

The run, writers, checks, pairing and state do not care which one ran: each gives an
``EngineResult`` holding the provider-shaped ``CardData``. Built in: ``api`` (the paid
service) and ``local`` (offline, the ``local`` extra). Nothing is imported here, so that
choosing an engine by name (``--help``) loads none of them.
"""
