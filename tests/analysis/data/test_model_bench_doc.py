"""benchmarks/run.py keeps one section per benchmark module in docs/benchmarks.md."""
from __future__ import annotations

from benchmarks.run import benchmark_modules, section, update_document


def test_sections_are_replaced_in_place_and_others_kept():
    text = "# Benchmarks\n"
    text = update_document(text, "data_layer", section("data_layer", "Data layer", "old figures"))
    text = update_document(text, "panel", section("panel", "Panel", "panel figures"))
    text = update_document(text, "data_layer", section("data_layer", "Data layer", "new figures"))
    assert "old figures" not in text and "new figures" in text and "panel figures" in text
    assert text.count("<!-- bench:data_layer -->") == 1
    assert text.index("new figures") < text.index("panel figures")


def test_data_layer_module_is_discovered():
    assert "data_layer" in benchmark_modules() and "run" not in benchmark_modules()
