"""The paid API as an engine, with everything only it needs.

``engine`` is the ``Engine`` the run is handed, with its price and the codes a later
run retries; ``client`` makes one signed attempt and retries it; ``retry_policy`` says,
as a pure function, whether an outcome is retried; ``transport`` is the engine's
transport settings, its one HTTP session and its error translation; ``portrait_links``
fetches the portraits behind the answers' links; ``meters`` is the rate limit and
``call_gate`` what stands before every paid call (budget, rate, fatal stop).
The wire format itself (signing, body, answers) is :mod:`batch_ocr.provider`.
"""
