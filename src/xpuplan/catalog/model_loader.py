"""Load a ModelSpec from a catalog name, a local config.json (file or folder) or a Hub id."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from xpuplan.catalog.files import load_json_file, parse_json
from xpuplan.catalog.hf_config import model_spec_from_config
from xpuplan.catalog.models import model_entries
from xpuplan.errors import SpecError, UnknownNameError
from xpuplan.limits import file_limit
from xpuplan.specs.model import ModelSpec

HUB_TIMEOUT_S = 10.0  # seconds to wait for the Hub before reporting it unreachable


def resolve_builtin(name: str) -> str | None:
    """The built-in model id for a name or alias, or None."""
    key = name.strip().lower()
    entries = model_entries()
    if key in entries:
        return key
    for entry in entries.values():
        if key in (a.lower() for a in entry.aliases):
            return entry.id
    return None


def load_model(source: str | os.PathLike) -> ModelSpec:
    """A ModelSpec from `source`: built-in name, config.json path or folder, or Hub model id."""
    text = str(source)
    builtin = resolve_builtin(text)
    if builtin is not None:
        entry = model_entries()[builtin]
        return model_spec_from_config(entry.raw_config(), name=entry.id)
    path = Path(text).expanduser()
    if _probe(path) == "dir":
        path = path / "config.json"
    if _probe(path):  # a file, or something that is not one (FIFO, device): read_text says
        return model_spec_from_config(_read_json(path), name=path.parent.name or path.stem)
    if text.endswith(".json") or os.sep in text and not _looks_like_hub_id(text):
        raise SpecError("model", text, "no such config file")
    if _looks_like_hub_id(text):
        return model_spec_from_config(_fetch_hub_config(text), name=text)
    known = list(model_entries()) + [a for e in model_entries().values() for a in e.aliases]
    raise UnknownNameError("model", text, known)


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not _probe(Path(text))


def _probe(path: Path) -> str | None:
    """'dir', 'other' (a file, FIFO, device...) or None where nothing can be found there (also
    for a name too long for the OS or one with a NUL byte: then it is no path)."""
    try:
        return "dir" if path.is_dir() else ("other" if os.path.lexists(path) else None)
    except (OSError, ValueError):
        return None


def _read_json(path: Path) -> dict[str, Any]:
    def error(problem: str) -> SpecError:
        return SpecError("config.json", str(path), problem)

    data = load_json_file(path, error)
    if not isinstance(data, dict):
        raise SpecError("config.json", str(path), "must hold a JSON object")
    return data


def _fetch_hub_config(model_id: str) -> dict[str, Any]:
    """Download only config.json of a Hub model (one attempt, HF_TOKEN honoured); offline,
    gated or unknown: one clear SpecError."""
    import urllib.error
    import urllib.request

    from huggingface_hub import get_token, hf_hub_url

    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "on", "yes", "true"):
        raise SpecError("model", model_id, "HF_HUB_OFFLINE is set, so the Hugging Face Hub is "
                        "not asked; pass a local config.json path or a built-in name "
                        "(xpuplan models)")
    token = get_token()
    request = urllib.request.Request(hf_hub_url(model_id, "config.json"),
                                     headers={"authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=HUB_TIMEOUT_S) as reply:
            body = reply.read(file_limit("max_bytes") + 1)
    except urllib.error.HTTPError as exc:
        raise SpecError("model", model_id,
                        f"the Hugging Face Hub answered HTTP {exc.code} for its config.json "
                        "(unknown or gated model? set HF_TOKEN)") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SpecError("model", model_id,
                        f"could not reach the Hugging Face Hub ({reason}); offline? pass a "
                        "local config.json path or a built-in name (xpuplan models)") from None
    def error(problem: str) -> SpecError:
        return SpecError("model", model_id, f"the Hub's config.json: {problem}")

    if len(body) > file_limit("max_bytes"):
        raise error("over the size limit")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error("not UTF-8 text") from None
    data = parse_json(text, error)
    if not isinstance(data, dict):
        raise SpecError("model", model_id, "the Hub's config.json is not a JSON object")
    return data
