"""The offline engine and the API as one engine: pay only for doubt, check what is paid.

::

    engine.HybridEngine        --engine hybrid: offline first; a card the offline
      │                        engine cannot vouch for goes to the API
      ├── vouch                can this reading be vouched for (the review signal's
      │                        reasons), and where two readings disagree
      └── pair.EnginePair      the offline engine beside the API engine, one engine to
                               the run (start, stop, kept answers, portraits)
    verify.VerifiedApiEngine   --engine api --verify: every card through the API, each
                               answer compared with the offline reading for free

Both need the ``local`` extra (the offline engine) and the API's credentials (but a dry
run, which calls nothing).
"""
