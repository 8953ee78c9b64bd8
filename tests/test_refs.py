"""References come from the schemas' x-ref annotations; the shape-sorted fast path
finds exactly what following every spec generically finds."""

from __future__ import annotations

from pathlib import Path

from crmfiles.records import classify
from crmfiles.records.yamlio import parse
from crmfiles.rules.files import schema_name
from crmfiles.schema_refs import Ref, _follow, extract_refs, ref_specs

EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"


def generic(name: str, data: object) -> list[Ref]:
    out: list[Ref] = []
    for spec in ref_specs(name):
        _follow(spec, data, spec.path, (), out)
    return out


def test_fast_and_generic_reference_extraction_agree_on_the_example() -> None:
    checked = 0
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        rel = path.relative_to(EXAMPLE).as_posix()
        place = classify(rel)
        if place is None or place.kind == "config":
            continue
        data = parse(path.read_text("utf-8"))
        name = schema_name(place)
        assert sorted(map(repr, extract_refs(name, data))) == sorted(
            map(repr, generic(name, data))
        ), rel
        checked += 1
    assert checked > 150


def test_an_opportunity_declares_its_references() -> None:
    data = {
        "partner": "acme",
        "contacts": ["jane", 7],
        "lines": [{"product": "forklift"}, "junk"],
        "competitors": [{"partner": "rival"}],
        "origin": {"type": "lead", "id": "l1"},
        "tags": "not-a-list",
    }
    refs = {(pointer, target, ref) for pointer, target, ref in extract_refs("opportunity", data)}
    assert refs == {
        (("partner",), "partners", "acme"),
        (("contacts", 0), "contacts", "jane"),
        (("lines", 0, "product"), "products", "forklift"),
        (("competitors", 0, "partner"), "partners", "rival"),
        (("origin", "id"), "leads", "l1"),
    }
