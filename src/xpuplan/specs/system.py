"""SystemSpec: chips joined into a scale-up domain and a scale-out fabric, in SI units.

A chip (specs.hardware.ChipSpec) is silicon: FLOP/s, HBM, TDP. A system says how many of them
sit in a node, how they reach each other inside the scale-up domain (a switch, a full mesh of
point-to-point links, or a torus with or without wraparound) and across it (EFA, InfiniBand,
DCN), what it draws and which instance or rack prices it. One chip can be in several systems
(Trainium2 in a trn2.48xlarge and in a Trn2 UltraServer); one of them is the chip's default.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SystemTopology = Literal["switch", "full_mesh", "torus", "ring"]


class SystemSpec(BaseModel):
    """A system of chips: node, scale-up domain (with its topology), scale-out fabric, power."""

    model_config = ConfigDict(frozen=True)

    id: str
    aliases: tuple[str, ...] = ()
    name: str = ""
    chip: str  # a ChipSpec id
    chips_per_node: int | None = Field(None, ge=1)  # per host / instance / tray; None: unknown
    domain_chips: int = Field(1, ge=1)  # chips in one scale-up domain
    topology: SystemTopology = "switch"
    torus_dims: tuple[int, ...] = ()  # torus axis lengths, fastest-varying rank first
    torus_wrap_unit: int = Field(0, ge=0)  # an axis whose span is a multiple of it wraps; 0 none
    links_per_chip: int | None = Field(None, ge=1)  # scale-up ports per chip
    link_bw_unidir: float | None = Field(None, gt=0)  # byte/s per link per direction
    axis_link_bw_unidir: tuple[float, ...] = ()  # byte/s per link per direction, per torus axis
    scaleup_fabric: str = ""
    scaleup_bw_unidir: float | None = Field(None, gt=0)  # byte/s per chip per direction, all links
    scaleout_fabric: str = ""  # EFA, InfiniBand, DCN ...
    scaleout_bw_unidir: float | None = Field(None, gt=0)  # byte/s per chip per direction
    system_power_w: float | None = Field(None, gt=0)  # whole domain / rack, W
    chip_power_w: float | None = Field(None, gt=0)  # per chip incl. its share of the system, W
    instance: str = ""  # an InstanceSpec id that rents it, or "" if none is catalogued
    default: bool = False  # the system a bare chip name resolves to
    implicit: bool = False  # built from a chip record's own fabric keys, not systems.toml
    source: str
    retrieved: str
    confidence: str = "medium"
    notes: str = ""
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> SystemSpec:
        """Cross-field rules: torus dims tile the domain, per-axis links match the dims, a full
        mesh has a link to every peer; the per-chip bandwidth defaults to the sum of links."""
        if self.torus_dims:
            if self.topology != "torus":
                raise ValueError(f"torus_dims = {list(self.torus_dims)}: only for topology = torus")
            if math.prod(self.torus_dims) != self.domain_chips:
                raise ValueError(f"torus_dims = {list(self.torus_dims)}: the product must equal "
                                 f"domain_chips = {self.domain_chips}")
            if self.axis_link_bw_unidir and len(self.axis_link_bw_unidir) != len(self.torus_dims):
                raise ValueError(f"axis_link_bw_unidir has {len(self.axis_link_bw_unidir)} values: "
                                 f"one per torus axis ({len(self.torus_dims)}) is needed")
        if self.topology == "full_mesh" and self.links_per_chip is not None and (
                self.links_per_chip < self.domain_chips - 1):
            raise ValueError(f"links_per_chip = {self.links_per_chip}: a full mesh of "
                             f"{self.domain_chips} chips needs >= {self.domain_chips - 1}")
        if self.scaleup_bw_unidir is None:
            total = self._links_total()
            if total is not None:
                object.__setattr__(self, "scaleup_bw_unidir", total)
        return self

    def axis_links(self) -> tuple[float, ...]:
        """Per-link per-direction bandwidth along each torus axis, byte/s (2 links per axis)."""
        if self.axis_link_bw_unidir:
            return self.axis_link_bw_unidir
        if self.link_bw_unidir is not None:
            return (self.link_bw_unidir,) * len(self.torus_dims)
        if self.scaleup_bw_unidir is not None and self.torus_dims:
            return (self.scaleup_bw_unidir / (2 * len(self.torus_dims)),) * len(self.torus_dims)
        return ()

    def _links_total(self) -> float | None:
        if self.topology == "torus" and self.torus_dims and (
                self.axis_link_bw_unidir or self.link_bw_unidir):
            return 2.0 * sum(self.axis_links())
        if self.links_per_chip is not None and self.link_bw_unidir is not None:
            return self.links_per_chip * self.link_bw_unidir
        return None
