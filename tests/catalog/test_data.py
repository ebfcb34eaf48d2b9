"""The one data path (catalog.data): each shipped file read once, shorthands resolved, records
validated with the file, record and field in every error, units converted in one place."""

from __future__ import annotations

import re
import tomllib
from collections import Counter

import pytest

from xpuplan.catalog import calibration as cal
from xpuplan.catalog import data
from xpuplan.catalog.measurements import (
    CollectiveMeasurement,
    MatmulMeasurement,
    StackRecord,
    collective_measurements,
    matmul_measurements,
)
from xpuplan.errors import CatalogError

MACHINE_PATH = re.compile(r"(?<![\w.])(/home/|/Users/|/work/|/tmp/|/root/|[A-Z]:\\)")


def _raw(name: str) -> dict:
    return tomllib.loads(data.builtin_file(name).read_text())


def test_shorthand_sources_read_with_the_full_reference():
    raw = _raw("efficiency.toml")
    refs = raw["source_refs"]
    expanded = 0
    for raw_row, record in zip(raw["matmul"], matmul_measurements(), strict=True):
        head, _, rest = raw_row["source"].partition(",")
        if head in refs:
            assert record.source == refs[head] + "," + rest
            assert "github.com/stas00/ml-engineering" in record.source
            expanded += 1
        else:
            assert record.source == raw_row["source"]
    assert expanded >= 10
    assert "source_refs" not in data.data_table("efficiency.toml")


def test_an_undefined_shorthand_is_refused_naming_the_record():
    table = {"source_refs": {"MLE-ACC": "the table"},
             "matmul": [{"source": "MLE-ACC, row 1"}, {"source": "MLE-XYZ, row 2"}]}
    with pytest.raises(CatalogError) as exc:
        data.resolve_sources(table, "eff.toml")
    assert exc.value.key == "matmul[1].source" and "'MLE-XYZ'" in exc.value.problem
    ok = data.resolve_sources({**table, "matmul": table["matmul"][:1]}, "eff.toml")
    assert ok == {"matmul": [{"source": "the table, row 1"}]}


def test_a_bad_record_names_file_record_and_field():
    good = {"chip": "h100-sxm", "precision": "bf16", "achieved_tflops": 794.5,
            "peak_dense_tflops": 989.0, "source": "s", "retrieved": "2026-11-25"}
    assert data.validated(MatmulMeasurement, good, "f", "matmul[0]").fraction_of_peak == (
        pytest.approx(794.5 / 989.0))
    for change, field in [({"achieved_tflops": -1.0}, "achieved_tflops"),
                          ({"source": ""}, "source"), ({"typo_tflops": 1.0}, "typo_tflops")]:
        with pytest.raises(CatalogError) as exc:
            data.validated(MatmulMeasurement, {**good, **change}, "eff.toml", "matmul[3]")
        assert exc.value.file == "eff.toml" and exc.value.key == f"matmul[3].{field}"


def test_record_rules_across_fields():
    base = {"vendor": "x", "name": "n", "heads": "pad", "tp_counts": "chips", "source": "s",
            "retrieved": "2026-12-01"}
    with pytest.raises(CatalogError, match="kv_admission"):
        data.validated(StackRecord, {**base, "workload": "serve"}, "stacks.toml", "stack[0]")
    with pytest.raises(CatalogError, match="needs engine"):
        data.validated(StackRecord, {**base, "workload": "serve", "kv_admission":
                                     "full_sequence"}, "stacks.toml", "stack[0]")
    with pytest.raises(CatalogError, match="max_running_batch_source"):
        data.validated(StackRecord, {**base, "workload": "serve", "engine": "e", "kv_admission":
                                     "reserved_full_sequence", "max_running_batch": 2048},
                       "stacks.toml", "stack[0]")
    with pytest.raises(CatalogError, match="heads"):
        data.validated(StackRecord, {**base, "workload": "train", "heads": "round"}, "f", "s")
    with pytest.raises(CatalogError, match="link_gb_per_s_unidir"):
        data.validated(CollectiveMeasurement, {
            "chip": "c", "tier": "scaleup", "op": "all_reduce", "algo": "ring", "n_chips": 8,
            "busbw_gb_per_s": 100.0, "source": "s", "retrieved": "r"}, "f", "collective[0]")


def test_units_become_si_in_the_record():
    raw = _raw("calibration.toml")["train"]
    for key, group in cal.train_groups().items():
        assert group.gemm_overhead_s == raw[key]["gemm_overhead_us"] * 1e-6
    raw_infer = _raw("calibration_infer.toml")["infer"]
    for key, group in cal.infer_groups().items():
        assert group.step_overhead_s == raw_infer[key]["step_overhead_us"] * 1e-6
        assert group.layer_overhead_s == raw_infer[key]["layer_overhead_us"] * 1e-6
    raw_coll = _raw("efficiency.toml")["collective"]
    for raw_row, record in zip(raw_coll, collective_measurements(), strict=True):
        assert record.latency_s == (raw_row["latency_us"] * 1e-6 if "latency_us" in raw_row
                                    else None)


def test_each_shipped_file_is_read_once(monkeypatch):
    from xpuplan.calibrate import report
    from xpuplan.calibrate.confidence import confidence_for
    from xpuplan.catalog.registry import hardware_catalog
    from xpuplan.hardware import efficiency, stacks

    caches = [data.data_table, data.records, data.keyed_records, cal.calibration,
              efficiency._calibration, stacks._rules]
    for c in caches:
        c.cache_clear()
    reads: Counter = Counter()
    original = data.read_table_file

    def counting(path):
        reads[path.name] += 1
        return original(path)

    monkeypatch.setattr(data, "read_table_file", counting)
    for name in ("h100", "trn2", "tpu-v5p"):
        chip = hardware_catalog().chip(name)
        for precision in ("bf16", "fp8"):
            efficiency.chip_efficiency(chip, {}, precision=precision)
            efficiency.serve_calibration_for(chip, precision)
            stacks.stack_rules(chip.vendor, "serve").ranks_per_chip(chip)
            for kind in ("train", "infer"):
                confidence_for(kind, chip, precision)
        efficiency.reserved_fraction(), efficiency.prefill_chunk_tokens()
    report.at_bound()
    assert {"efficiency.toml", "calibration.toml", "calibration_infer.toml",
            "stacks.toml"} <= set(reads)
    assert all(n == 1 for n in reads.values()), reads


def test_shipped_files_name_no_machine_path():
    for path in sorted(data.builtin_file("").rglob("*")):
        if path.is_file():
            hits = MACHINE_PATH.findall(path.read_text(encoding="utf-8"))
            assert not hits, (path.name, hits[:3])


def test_an_unwindowed_kv_pool_needs_its_source(serve_stack_fields):
    # windowed_kv_pool = false is an engine fact: the record must say where it comes from.
    from xpuplan.catalog.measurements import StackRecord
    base = {**serve_stack_fields, "kv_admission": "full_sequence"}
    with pytest.raises(ValueError, match="windowed_kv_pool_source"):
        StackRecord(**base, windowed_kv_pool=False)
    assert not StackRecord(**base, windowed_kv_pool=False,
                           windowed_kv_pool_source="s").windowed_kv_pool
