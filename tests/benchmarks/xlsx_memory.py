"""Does an Excel output stay within bounded memory as the table grows?

    python tests/benchmarks/xlsx_memory.py [--rows 100000] [--small 10000]

Fills a state journal with ``--rows`` realistic rows (CJK names and addresses, 18-digit
numbers), then writes the output from it in a child process, as a run does at its start
and end (``output.WorkbookOutputFile``), and reads the child's own peak RSS and CPU
(``os.wait4``). The same is done for ``--small`` rows and for a CSV of ``--rows``, side
by side, so the numbers compared are ratios from one run on one machine. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from batch_ocr.run.journal.state import FileStamp, Journal  # noqa: E402
from batch_ocr.run.present.rows import Row  # noqa: E402

CHILD = """
import sys
from pathlib import Path
from batch_ocr.run.output.file import OutputFile, WorkbookOutputFile
from batch_ocr.run.journal.state import Journal
journal_path, target = Path(sys.argv[1]), sys.argv[2]
output = (WorkbookOutputFile(target) if target.endswith(".xlsx")
          else OutputFile(target, "csv", bom=True))
with Journal(journal_path) as journal:
    output.start(journal.rows())
    output.finish(journal.rows())
"""


def fill_journal(path: Path, count: int) -> None:
    with Journal(path) as journal:
        for index in range(count):
            row = Row(file=f"批次{index // 1000:03d}/扫描_{index:06d}.jpg", status="ok",
                      side="front", name="欧阳明月", sex="男", nation="汉",
                      birth_date="1990-10-09",
                      address=f"江西省南昌市红谷滩区丰和中大道{index}号 附{index % 97}栋",
                      id_number=f"3601131990{index:08d}", order_no=f"8816798031{index:08d}",
                      attempts=1, sha256=f"{index:064x}", engine="api",
                      validity={"name": True, "number": True})
            journal.record(Path(f"/scans/{index}.jpg"), FileStamp(1, index), row,
                           retryable=False)


def measure(journal: Path, target: Path) -> dict[str, float]:
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(journal), str(target)],
                             cwd=REPO)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return {"peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "wall_s": round(time.monotonic() - started, 2),
            "file_mb": round(target.stat().st_size / 2**20, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        big, small = folder / "big.sqlite", folder / "small.sqlite"
        fill_journal(big, args.rows)
        fill_journal(small, args.small)
        results = {
            f"xlsx_{args.small}": measure(small, folder / "small.xlsx"),
            f"xlsx_{args.rows}": measure(big, folder / "big.xlsx"),
            f"csv_{args.rows}": measure(big, folder / "big.csv"),
        }
    big_rss = results[f"xlsx_{args.rows}"]["peak_rss_mb"]
    results["rss_growth_small_to_big"] = round(
        big_rss / results[f"xlsx_{args.small}"]["peak_rss_mb"], 3)
    results["xlsx_vs_csv_rss"] = round(big_rss / results[f"csv_{args.rows}"]["peak_rss_mb"], 3)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
