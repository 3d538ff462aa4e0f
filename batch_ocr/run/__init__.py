"""A run, stage by stage: from a folder of scans to a table, each card paid for once.

Read the modules in the order an image travels through them::

    runner       a whole run as a library call: lock, journal, output, engine, batch
      pipeline   the batch: walk, decide, load, recognise once per content, record
        discovery   discover: the files under the sources, in sorted order
        resume      journal/: what a rerun does with a file it has seen before
        pages       pages: a PDF's pages, a TIFF's frames, each an image
        jobs        one image's job: its stamp, page, hash and the decode it carries
        pool        the bounded worker pool (at most ``concurrency`` jobs exist)
        dedup       once per content: the same bytes under two names are read once
        cards       cards: several cards on one image, which become rows
        recognition recognise: one image to its rows through the engine it was handed
        present/    rows, checks, review, stamps, masking, pairing, portraits
        recorder    journal first (journal/), output second (output/), on one writer
      progress     what the user watches while it goes
      summary      summary: what the run did, counted live and frozen at the end

The run is handed its engine (``batch_ocr.engines``) and never asks which one it is;
card finding and decoding live in ``batch_ocr.vision``.
"""
