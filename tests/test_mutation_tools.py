"""The mutation-testing helpers CI relies on: which functions changed, and the check of a partial run."""
from __future__ import annotations

import json

import pytest

from tests import mutation_changed, mutation_check

OLD = '''
def kept(a):
    return a + 1


def edited(a):
    return a * 2


class Parser:
    def read(self, text):
        return text.strip()

    def same(self):
        return 1
'''

NEW = '''
def kept(a):
    return a + 1


def edited(a):
    return a * 3


def added():
    return None


class Parser:
    def read(self, text):
        return text.strip().lower()

    def same(self):
        return 1
'''


def test_changed_functions_are_the_edited_the_new_and_the_edited_methods():
    assert mutation_changed.changed_functions(OLD, NEW) == ["x_edited", "x_added", "x\u01c1Parser\u01c1read"]


def test_a_new_module_is_changed_everywhere_and_an_unchanged_one_nowhere():
    assert mutation_changed.changed_functions(None, OLD) == ["x_kept", "x_edited", "x\u01c1Parser\u01c1read",
                                                            "x\u01c1Parser\u01c1same"]
    assert mutation_changed.changed_functions(OLD, OLD) == []


def test_method_keys_are_mutmuts_own():
    from mutmut.mutation.trampoline_templates import mangle_function_name

    keys = mutation_changed.function_sources(NEW)
    assert mangle_function_name(name="read", class_name="Parser") in keys
    assert mangle_function_name(name="added", class_name=None) in keys


def test_globs_name_the_module_and_the_function(monkeypatch, tmp_path):
    monkeypatch.setattr(mutation_changed, "ROOT", tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(NEW)
    monkeypatch.setattr(mutation_changed, "source_at", lambda revision, path: OLD)
    assert mutation_changed.changed_globs("HEAD~1", ["pkg/mod.py"]) == [
        "pkg.mod.x_edited__mutmut_*", "pkg.mod.x_added__mutmut_*", "pkg.mod.x\u01c1Parser\u01c1read__mutmut_*"]


def _meta(tmp_path, monkeypatch, codes):
    folder = tmp_path / "mutants" / "pkg"
    folder.mkdir(parents=True)
    (folder / "mod.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    monkeypatch.setattr(mutation_check, "MUTANTS_DIR", tmp_path / "mutants")


def test_a_partial_run_is_judged_on_the_mutants_it_ran(tmp_path, monkeypatch):
    _meta(tmp_path, monkeypatch, {"pkg.mod.x_edited__mutmut_1": 1, "pkg.mod.x_edited__mutmut_2": 1,
                                  "pkg.mod.x_kept__mutmut_1": None})
    rows, problems = mutation_check.check(["pkg/mod.py"], {}, only=["pkg.mod.x_edited__mutmut_*"])
    assert problems == [] and rows[0]["total"] == 2 and rows[0]["score"] == 1.0
    rows, problems = mutation_check.check(["pkg/mod.py"], {})  # the whole module: the unrun mutant is undecided
    assert problems == ["pkg.mod.x_kept__mutmut_1: not decided (exit code None); rerun `mutmut run pkg.mod.x_kept__mutmut_1`"]


def test_a_survivor_among_the_changed_functions_fails_unless_listed(tmp_path, monkeypatch):
    _meta(tmp_path, monkeypatch, {"pkg.mod.x_edited__mutmut_1": 0, "pkg.mod.x_kept__mutmut_1": 0})
    only = ["pkg.mod.x_edited__mutmut_*"]
    _, problems = mutation_check.check(["pkg/mod.py"], {}, only=only)
    assert problems == ["pkg.mod.x_edited__mutmut_1: survived (mutmut show pkg.mod.x_edited__mutmut_1)"]
    _, problems = mutation_check.check(["pkg/mod.py"], {"pkg.mod.x_edited__mutmut_1": "equivalent: reason"}, only=only)
    assert problems == []


@pytest.mark.parametrize("argv", [["--only", "pkg.mod.x_a__mutmut_*"], ["--only"]])
def test_only_needs_the_separator(argv, capsys):
    assert mutation_check.main(argv) == 2
    assert "usage" in capsys.readouterr().err
