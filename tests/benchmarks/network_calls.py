"""CPU of each network call of the offline engine, under other runtimes and options.

    python tests/benchmarks/network_calls.py [--set phone_photos] [--count 6] [--seed N]
        [--repeats 3]

Reads ``--count`` cards of a harness set (``accuracy.py``) with the engine as it is,
recording what its detector, line classifier and recogniser are given; then times each
network on those same inputs, one thread, under each runtime alternative below, and
compares what it gives with what the engine's own sessions gave: the largest difference
in any output value, and for the recogniser the lines whose text changes. CPU is the
best of ``--repeats`` passes (the machine is shared), per card read. An alternative
whose package is not installed is skipped (``openvino`` is not a dependency).

The figures in docs/offline-engine.md ("Where the CPU goes") come from this script.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
#: The engine's networks by the name its ``Models`` gives them, and their model's task.
NETWORKS = {"det": "Det", "cls": "Cls", "rec": "Rec"}

Run = Callable[[np.ndarray], np.ndarray]


def _accuracy() -> ModuleType:
    """The accuracy harness (``accuracy.py``), loaded as the tests load it."""
    sys.path.insert(1, str(HERE.parents[1]))
    from tests.card_pages import module_at

    return module_at("accuracy_harness", HERE / "accuracy.py")


@contextlib.contextmanager
def _recorded(models: Any, inputs: dict[str, list[np.ndarray]]) -> Iterator[None]:
    """While inside, each session call of the engine's networks has its input copied
    into ``inputs[network]``."""
    sessions = {name: getattr(models, name).session for name in NETWORKS}

    def recorder(name: str, session: Run) -> Run:
        def run(batch: np.ndarray) -> np.ndarray:
            inputs[name].append(batch.copy())
            return session(batch)

        return run

    for name, session in sessions.items():
        getattr(models, name).session = recorder(name, session)
    try:
        yield
    finally:
        for name, session in sessions.items():
            getattr(models, name).session = session


def _onnxruntime(arena: bool) -> Callable[[Path], Run]:
    """onnxruntime on one thread, as rapidocr sets it up (all graph optimisations), with
    its CPU memory arena on or off."""

    def load(model: Path) -> Run:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.enable_cpu_mem_arena = arena
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda batch: session.run(None, {name: batch})[0]

    return load


def _openvino(precision: str | None) -> Callable[[Path], Run]:
    """OpenVINO on one thread and one stream at ``precision`` (``None``: its own default
    for this CPU, which is what rapidocr's ``engine_type: openvino`` gets)."""

    def load(model: Path) -> Run:
        import openvino as ov

        core = ov.Core()
        config: dict[str, Any] = {"INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1}
        if precision is not None:
            config["INFERENCE_PRECISION_HINT"] = precision
        request = core.compile_model(core.read_model(str(model)), "CPU", config)
        infer = request.create_infer_request()

        def run(batch: np.ndarray) -> np.ndarray:
            infer.infer([batch])
            # The output tensor is the request's own buffer, overwritten by the next call.
            return np.array(infer.get_output_tensor().data)

        return run

    return load


#: Runtime alternatives by name, and the package each needs.
ALTERNATIVES: dict[str, tuple[str, Callable[[Path], Run]]] = {
    "onnxruntime": ("onnxruntime", _onnxruntime(arena=False)),
    "onnxruntime, memory arena": ("onnxruntime", _onnxruntime(arena=True)),
    "openvino f32": ("openvino", _openvino("f32")),
    "openvino default precision": ("openvino", _openvino(None)),
}


def _timed(run: Run, batches: list[np.ndarray], repeats: int) -> tuple[float, list[np.ndarray]]:
    """The least CPU seconds of ``repeats`` passes over ``batches``, and the outputs."""
    run(batches[0])  # the first call of a session sets it up
    best, outputs = float("inf"), []
    for _ in range(repeats):
        start = time.process_time()
        outputs = [run(batch) for batch in batches]
        best = min(best, time.process_time() - start)
    return best, outputs


def _texts(rec: Any, outputs: list[np.ndarray]) -> list[str]:
    return [text for output in outputs for text, _ in rec.postprocess_op(output, False)[0]]


def compare(name: str, load: Callable[[Path], Run], inputs: dict[str, list[np.ndarray]],
            reference: dict[str, list[np.ndarray]], cards: int, repeats: int) -> str:
    """One line of the table: ``name``'s CPU per card for each network, its largest
    output difference from the engine's, and the recogniser's lines read otherwise."""
    from batch_ocr.engines.local import _ocr

    start = time.process_time()
    runs = {net: load(_ocr.model_dir() / _ocr.MODEL_FILES[task]) for net, task in NETWORKS.items()}
    load_s = time.process_time() - start
    cells, changed = [], 0
    for net in NETWORKS:
        cpu_s, outputs = _timed(runs[net], inputs[net], repeats)
        largest = max(float(np.abs(a - b).max()) for a, b in zip(outputs, reference[net],
                                                                strict=True))  # fmt: skip
        cells.append(f"{cpu_s / cards:.3f} s ({largest:.0e})")
        if net == "rec":
            rec = _ocr.models().rec
            ours, theirs = _texts(rec, outputs), _texts(rec, reference[net])
            changed = sum(a != b for a, b in zip(ours, theirs, strict=True))
    lines = sum(len(batch) for batch in inputs["rec"])
    return f"| {name} | {load_s:.2f} s | {' | '.join(cells)} | {changed}/{lines} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="phone_photos", help="a generated harness set")
    parser.add_argument("--count", type=int, default=6, help="cards of the set to read")
    parser.add_argument("--seed", type=int, default=None, help="seed of the set")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per network")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    accuracy = _accuracy()
    from batch_ocr.engines.local import _ocr, recognise

    build, default_seed = accuracy.GENERATED_SETS[args.set]
    cases = build(args.count, default_seed if args.seed is None else args.seed)
    cards = sum(len(case.crops) or case.cards_on_image for case in cases)
    inputs: dict[str, list[np.ndarray]] = {net: [] for net in NETWORKS}
    with _recorded(_ocr.models(), inputs):
        for case in cases:
            for image in case.crops or [case.image_bytes]:
                recognise(image)
    reference = {net: [getattr(_ocr.models(), net).session(batch) for batch in batches]
                 for net, batches in inputs.items()}  # fmt: skip
    print(f"{args.set}, {cards} cards: {', '.join(f'{len(v)} {k} calls' for k, v in inputs.items())}")
    print("| runtime | load CPU | det CPU per card (largest difference) | cls | rec "
          "| rec lines read otherwise |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (package, load) in ALTERNATIVES.items():
        if importlib.util.find_spec(package) is None:
            print(f"| {name} | not installed ({package}) |")
            continue
        print(compare(name, load, inputs, reference, cards, args.repeats), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
