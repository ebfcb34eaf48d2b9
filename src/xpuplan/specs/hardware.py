"""ChipSpec and InstanceSpec: validated hardware and price facts in SI units.

A catalog chip is silicon; `HardwareCatalog.chip()` returns it seen inside a system
(specs.system.SystemSpec): the scale-up/scale-out fields below are then the system's, and
`system` is that system. A chip record may still carry its own fabric keys (older user
catalogs); they override its default system's.

Each figure keeps the source it came from (`sources[field]`), so any number xpuplan prints
can be traced back. Dense vs sparse FLOP/s and per-direction bandwidth are in the names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xpuplan.errors import SpecError
from xpuplan.specs.precision import PEAK_FIELD, Precision
from xpuplan.specs.system import SystemSpec

# torus2d/torus3d: older records' tori without dimensions (treated as uniform, like a switch)
Topology = Literal["switch", "full_mesh", "torus", "torus2d", "torus3d", "ring"]


class ChipSpec(BaseModel):
    """One accelerator chip (a GPU, one Trainium/TPU chip), seen inside `system`."""

    model_config = ConfigDict(frozen=True)

    id: str
    aliases: tuple[str, ...] = ()
    vendor: str
    family: str = ""  # architecture generation (nvidia-hopper, aws-trainium2, ...)
    name: str
    year: int | None = None
    bf16_dense_flops: float | None = Field(None, gt=0)  # FLOP/s, dense (no sparsity)
    fp8_dense_flops: float | None = Field(None, gt=0)
    fp4_dense_flops: float | None = Field(None, gt=0)
    int8_dense_ops: float | None = Field(None, gt=0)
    hbm_bytes: float = Field(gt=0)  # decimal bytes
    hbm_bw: float | None = Field(None, gt=0)  # byte/s; None where no source gives it
    scaleup_fabric: str = ""
    scaleup_topology: Topology | None = None  # None: the system's (a view always has one)
    scaleup_bw_unidir: float | None = Field(None, gt=0)  # byte/s per chip, per direction
    scaleup_domain_chips: int | None = Field(None, ge=1)
    scaleout_fabric: str = ""
    scaleout_bw_unidir: float | None = Field(None, gt=0)  # byte/s per chip, per direction
    tdp_w: float | None = Field(None, gt=0)
    cores_per_chip: int | None = Field(None, ge=1)
    # Neuron only: physical NeuronCores grouped into one logical core (LNC); each logical
    # core is one tensor-parallel rank, so a chip holds cores_per_chip / LNC ranks.
    logical_core_size: int | None = Field(None, ge=1)
    source: str
    retrieved: str
    confidence: str = "medium"
    notes: str = ""
    sources: dict[str, str] = Field(default_factory=dict)  # figure field -> its source
    system: SystemSpec | None = None  # the system this view of the chip is in

    def dense_flops(self, precision: Precision | str) -> float:
        """Peak dense FLOP/s at a precision; SpecError if the chip has no such unit."""
        p = Precision(precision)
        value = getattr(self, PEAK_FIELD[p])
        if value is None:
            have = [q.value for q in Precision if getattr(self, PEAK_FIELD[q]) is not None]
            raise SpecError("precision", p.value,
                            f"{self.name} has no dense {p.value} rate in the catalog "
                            f"(it has: {', '.join(have)})")
        return value

    @property
    def ranks_per_chip(self) -> int:
        """Tensor-parallel ranks one chip runs: cores / LNC on Neuron, else 1 (a GPU or TPU
        chip is one device to its framework)."""
        if self.logical_core_size is None or self.cores_per_chip is None:
            return 1
        return max(self.cores_per_chip // self.logical_core_size, 1)

    def supports(self, precision: Precision | str) -> bool:
        return getattr(self, PEAK_FIELD[Precision(precision)]) is not None


class InstanceSpec(BaseModel):
    """A rentable system (cloud instance, or one chip-hour of a TPU) with its prices."""

    model_config = ConfigDict(frozen=True)

    id: str
    aliases: tuple[str, ...] = ()
    provider: str
    chip: str  # a ChipSpec id
    chips: int = Field(ge=1)
    region: str = ""
    on_demand_usd_per_s: float | None = Field(None, ge=0)  # whole instance
    commit_1y_usd_per_s: float | None = Field(None, ge=0)
    commit_3y_usd_per_s: float | None = Field(None, ge=0)
    spot_usd_per_s: float | None = Field(None, ge=0)
    capacity_block_usd_per_s: float | None = Field(None, ge=0)  # AWS EC2 Capacity Blocks
    network_bw: float | None = Field(None, gt=0)  # byte/s, the instance's scale-out NICs
    price_date: str = ""
    source: str
    retrieved: str
    confidence: str = "medium"
    notes: str = ""
    sources: dict[str, str] = Field(default_factory=dict)

    def usd_per_chip_s(self, term: str = "on_demand") -> float | None:
        """Price of one chip for one second under a term (on_demand, commit_1y, ...)."""
        whole = getattr(self, f"{term}_usd_per_s")
        return None if whole is None else whole / self.chips
