"""Built-in models: `data/models.toml` indexes Hugging Face `config.json` files in `data/models/`.

Each index entry names its config file, where the config was read, and the published
parameter counts with their source (the tests compare our counts against them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from xpuplan.catalog.data import builtin_file, data_table
from xpuplan.catalog.files import load_json_file
from xpuplan.errors import CatalogError

REQUIRED = ("id", "name", "config", "config_source", "published_total_params", "params_source",
            "retrieved")


@dataclass(frozen=True)
class ModelEntry:
    """One built-in model: its config file and its published size with the source."""

    id: str
    name: str
    aliases: tuple[str, ...]
    config_path: Path
    config_source: str
    published_total_params: float
    published_active_params: float
    published_total_rounding: float  # half a unit of the published figure's last digit
    published_active_rounding: float
    published_active_excludes_embedding: bool  # the publisher counts active params without it
    params_source: str
    retrieved: str
    notes: str

    def raw_config(self) -> dict[str, Any]:
        def error(problem: str) -> CatalogError:
            return CatalogError(str(self.config_path), None, f"unreadable config: {problem}")

        return load_json_file(self.config_path, error)


@lru_cache(maxsize=1)
def model_entries() -> dict[str, ModelEntry]:
    """Every built-in model by lower-case id."""
    index = builtin_file("models.toml")
    entries = {}
    for i, raw in enumerate(data_table("models.toml").get("model", [])):
        for key in REQUIRED:
            if key not in raw:
                raise CatalogError(str(index), f"model[{i}].{key}", "required key is missing")
        total = float(raw["published_total_params"])
        entries[raw["id"].lower()] = ModelEntry(
            id=raw["id"].lower(), name=raw["name"], aliases=tuple(raw.get("aliases", ())),
            config_path=builtin_file(f"models/{raw['config']}"),
            config_source=raw["config_source"], published_total_params=total,
            published_active_params=float(raw.get("published_active_params", total)),
            published_total_rounding=float(raw.get("published_total_rounding", 0.0)),
            published_active_rounding=float(raw.get("published_active_rounding", 0.0)),
            published_active_excludes_embedding=bool(
                raw.get("published_active_excludes_embedding", False)),
            params_source=raw["params_source"], retrieved=raw["retrieved"],
            notes=raw.get("notes", ""))
    return entries
