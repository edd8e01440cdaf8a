"""Write catalog/fixtures/demo-catalog.jsonl.gz: a sample of the Debian catalog.

A rule, not a list: the packages the archive relies on most (by
reverse_depends, so the well-known programs and libraries are there), then a
seeded random sample of the rest, so that the demo and the tests run without
../shared on a catalog that reads like the whole one. Usage:
    python scripts/make_demo_fixture.py ../shared/data/debian-bookworm-packages.jsonl.gz
"""

import gzip
import json
import random
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "catalog" / "fixtures" / "demo-catalog.jsonl.gz"
SIZE = 6000
MOST_DEPENDED_ON = 3000


def main(source: str) -> None:
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    by_importance = sorted(records, key=lambda r: (-r.get("reverse_depends", 0), r["name"]))
    chosen = by_importance[:MOST_DEPENDED_ON]
    chosen += random.Random(42).sample(by_importance[MOST_DEPENDED_ON:], SIZE - len(chosen))
    chosen.sort(key=lambda r: r["name"])
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives the same bytes.
    with gzip.GzipFile(TARGET, "wb", mtime=0) as out:
        for record in chosen:
            out.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
    print(f"wrote {len(chosen)} records to {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
