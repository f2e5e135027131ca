"""Letters benchmark: median ms per render, per signature and per letter end to end, and letters per second
with 1 and 2 worker processes. Run with `make bench` (or `.venv/bin/python bench/letters.py --n 20`).

It needs no database: it renders the 信用修复告知书 from a fixed content and signs it with a development
certificate made in a temporary directory. Figures and their meaning: docs/performance.md."""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, where bench/queue.py shadows the standard library.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-letters-"))

import django  # noqa: E402

django.setup()

from credit.models import Department  # noqa: E402
from letters.models import SigningIdentity  # noqa: E402
from letters.pki import DEV_PASSPHRASE, DEV_PASSPHRASE_ENV, create_dev_pki  # noqa: E402
from letters.rendering import SEAL_BOX, harfbuzz_subset_available, render_pdf  # noqa: E402
from letters.samples import SAMPLE_CONTEXT  # noqa: E402
from letters.signing import sign_pdf  # noqa: E402

TARGET_MS = 400.0
CONTEXT = SAMPLE_CONTEXT


def _identity() -> SigningIdentity:
    department = Department(
        code="market", name="示范市市场监督管理局", city="示范市", kind=Department.Kind.DECIDING
    )
    pki = create_dev_pki(Path(os.environ["VAR_DIR"]) / "dev-pki", [department], passphrase=DEV_PASSPHRASE)
    os.environ[DEV_PASSPHRASE_ENV] = DEV_PASSPHRASE.decode()
    files = pki.departments["market"]
    return SigningIdentity(
        pkcs12_path=str(files.pkcs12),
        passphrase_env=DEV_PASSPHRASE_ENV,
        seal_image_path=str(files.seal),
        signer_text=department.name,
        development_only=True,
    )


def _one_letter(identity: SigningIdentity, directory: Path, index: int) -> None:
    pdf = render_pdf(CONTEXT, kind="repair_notice")
    signed = sign_pdf(pdf, identity=identity, box=SEAL_BOX, reason="bench", location="示范市")
    digest = hashlib.sha256(signed.data).hexdigest()
    path = directory / f"{index}-{digest[:12]}.pdf"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(signed.data)
    os.replace(tmp, path)


def _median_ms(fn: Any, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _worker(args: tuple[int, int]) -> float:
    worker, count = args
    identity = _identity()
    directory = Path(tempfile.mkdtemp(prefix=f"bench-w{worker}-"))
    _one_letter(identity, directory, -1)  # warm: fonts, keys, templates
    start = time.perf_counter()
    for i in range(count):
        _one_letter(identity, directory, i)
    return time.perf_counter() - start


def _throughput(workers: int, per_worker: int) -> float:
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        start = time.perf_counter()
        durations = pool.map(_worker, [(w, per_worker) for w in range(workers)])
        wall = time.perf_counter() - start
    # Letters per second of the steady state: every worker's letters over the slowest worker's time.
    return workers * per_worker / max(durations) if durations else workers * per_worker / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20, help="repetitions per measurement")
    args = parser.parse_args()
    identity = _identity()
    directory = Path(tempfile.mkdtemp(prefix="bench-letters-out-"))
    pdf = render_pdf(CONTEXT, kind="repair_notice")
    sign_pdf(pdf, identity=identity, box=SEAL_BOX, reason="warm", location="示范市")  # keys, stamp font

    render_ms = _median_ms(lambda: render_pdf(CONTEXT, kind="repair_notice"), args.n)
    sign_ms = _median_ms(
        lambda: sign_pdf(pdf, identity=identity, box=SEAL_BOX, reason="b", location="示范市"), args.n
    )
    counter = iter(range(10**6))
    letter_ms = _median_ms(lambda: _one_letter(identity, directory, next(counter)), args.n)
    one = _throughput(1, args.n)
    two = _throughput(2, args.n)
    cores = os.cpu_count() or 1

    print(
        f"libharfbuzz-subset: {'yes' if harfbuzz_subset_available() else 'NO (expect ~50x slower renders)'}"
    )
    print(f"cores: {cores}; repetitions: {args.n}")
    print(f"{'measure':<36}{'value':>12}")
    print(f"{'render, median ms':<36}{render_ms:>12.1f}")
    print(f"{'sign (PAdES B-B, visible seal), ms':<36}{sign_ms:>12.1f}")
    print(f"{'letter end to end, median ms':<36}{letter_ms:>12.1f}")
    print(f"{'letters/s, 1 worker':<36}{one:>12.2f}")
    print(f"{'letters/s, 2 workers':<36}{two:>12.2f}")
    print(f"{'ratio end to end / 400 ms target':<36}{letter_ms / TARGET_MS:>12.2f}")
    print(f"{'ratio 2 workers / 1 worker':<36}{two / one:>12.2f}")
    size_kb = len(sign_pdf(pdf, identity=identity, box=SEAL_BOX, reason="b", location="x").data) / 1024
    print(f"{'signed letter size, KB':<36}{size_kb:>12.0f}")


if __name__ == "__main__":
    main()
