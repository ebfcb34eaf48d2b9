"""An audit as a plan's one-time migration cost: M_v = W_t(mid) × $/engineer-week.

`migration_audit` in a vendor_mix vendor names a directory (audited now) or the JSON that
`xpuplan audit --json` wrote; the vendor's chip vendor picks the target (aws -> neuron,
google -> xla, amd -> rocm, from audit_targets.toml). The $/engineer-week is the vendor's
`usd_per_engineer_week`, else the audit JSON's, else the sourced default (audit_effort.toml).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xpuplan.audit.effort import load_effort
from xpuplan.audit.result import run_audit
from xpuplan.audit.rules import load_rules
from xpuplan.errors import SpecError


@dataclass(frozen=True)
class MigrationCost:
    """Migration cost of a code base to one target, USD, with its engineer-weeks."""
    usd: float
    engineer_weeks: float  # mid
    target: str
    usd_per_engineer_week: float
    source: str  # one line: where the figure comes from


def migration_cost(path: str, chip_vendor: str,
                   usd_per_engineer_week: float | None = None) -> MigrationCost:
    """M_v from an audit of `path` for the target that `chip_vendor` runs."""
    targets = load_rules().vendor_targets
    target = targets.get(chip_vendor)
    if target is None:
        raise SpecError("migration_audit", path, f"chip vendor {chip_vendor!r} is not a "
                        f"migration target; allowed vendors: {', '.join(sorted(targets))}")
    p = Path(path)
    if p.is_file():
        weeks, usd_default = _from_json(p, target)
    else:
        result = run_audit(p, targets=(target,))
        weeks = result.effort[target].engineer_weeks["mid"]
        usd_default = result.usd_per_engineer_week
    usd = usd_per_engineer_week or usd_default or load_effort().usd_per_engineer_week
    return MigrationCost(usd=weeks * usd, engineer_weeks=weeks, target=target,
                         usd_per_engineer_week=usd,
                         source=f"audit of {path} ({target}): {weeks:,.1f} engineer-weeks x "
                                f"${usd:,.0f}/engineer-week")


def _from_json(path: Path, target: str) -> tuple[float, float | None]:
    try:
        data = json.loads(path.read_text())
        weeks = float(data["effort"][target]["engineer_weeks"]["mid"])
    except OSError as exc:
        raise SpecError("migration_audit", str(path), f"cannot read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError):
        raise SpecError("migration_audit", str(path), "is not the JSON of `xpuplan audit "
                        f"--json` with effort.{target}.engineer_weeks.mid (audit it with "
                        f"--target {target})") from None
    usd = data.get("usd_per_engineer_week")
    return weeks, float(usd) if isinstance(usd, int | float) and usd > 0 else None
