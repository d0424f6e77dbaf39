"""Write hashrisk/sim/data/owners_default.yaml from the cited listed-miner datasets, as of the snapshot day.

Usage::

    python scripts/build_default_owners.py [--check]

``--check`` writes nothing and exits 1 when the packaged file differs from what the datasets give now.
Every owner is validated with ``hashrisk.sim.scenario.OwnerSpec`` before writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from hashrisk.flows.owners import SNAPSHOT_DAY, default_owners_yaml, listed_owner_specs
from hashrisk.sim.scenario import OwnerSpec

TARGET = Path(__file__).resolve().parents[1] / "src" / "hashrisk" / "sim" / "data" / "owners_default.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = default_owners_yaml(SNAPSHOT_DAY)
    for mapping in yaml.safe_load(text)["owners"]:
        OwnerSpec.model_validate(mapping)
    if args.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET}: {'up to date' if same else 'STALE (rerun scripts/build_default_owners.py)'}")
        return 0 if same else 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    result = listed_owner_specs(SNAPSHOT_DAY)
    print(f"wrote {TARGET}: {len(result.owners)} owners as of {SNAPSHOT_DAY}")
    for company, why in result.left_out.items():
        print(f"  left out {company}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
