"""Journal: what each file became, committed as soon as it is known.

``state`` is the SQLite journal itself (exactly-once across kills and reruns);
``resume`` decides, without I/O, what a rerun does with a file or content it has seen;
``paid_answers`` lets an engine keep the answers it paid for part of a page;
``stored_rows`` is an entry's rows as JSON; ``sealing`` seals them with a key, and
``forget`` (``batch-ocr-forget``, argv in ``forget_cli``) drops old rows' fields.
"""
