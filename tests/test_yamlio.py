"""The fast path and the reference path read YAML alike; locate() finds the node.

- ``parse`` (yaml_rs, with a detour to the reference for what yaml_rs reads wrong)
  and ``parse_reference`` (PyYAML configured to YAML 1.2's core schema) return the
  same data, of the same types, or both raise ParseError: for every YAML file of
  ``example-repo/``, for hand-written edge cases, for documents PyYAML dumps from
  generated data and for generated raw YAML.
- ``schema.fast_validator`` (jsonschema_rs) and ``schema.reference_validator``
  (Python's jsonschema) agree on validity for every example file and for mutations
  of them.
- ``locate`` maps a pointer to the span of a value or key.

Hypothesis runs are derandomized so CI sees the same cases every time.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE_FILES, dedent
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from crmfiles.records import RECORD_FOLDERS, classify
from crmfiles.records.yamlio import ParseError, compose, parse, parse_reference
from crmfiles.records.yamlroute import needs_reference
from crmfiles.records.yamlspans import Slot, Span, locate, locate_top_level, top_level_slots
from crmfiles.schema import fast_validator, reference_validator

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example-repo"
FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type: 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(read: Any, text: str) -> Any:
    try:
        return typed(read(text))
    except ParseError:
        return "ParseError"


def assert_agree(text: str) -> None:
    assert outcome(parse, text) == outcome(parse_reference, text), text


# --- the example repository and the fixture ---------------------------------------


def example_files() -> list[Any]:
    paths = sorted(p for p in EXAMPLE.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not paths:  # another engineer may still be writing it
        return [pytest.param(None, marks=pytest.mark.skip(reason="example-repo is empty"))]
    return [pytest.param(p, id=p.relative_to(EXAMPLE).as_posix()) for p in paths]


@pytest.mark.parametrize("path", example_files())
def test_fast_and_reference_agree_on_example_files(path: Path) -> None:
    text = path.read_text("utf-8")
    assert_agree(text)
    assert outcome(parse, text) != "ParseError"


@pytest.mark.parametrize("path", sorted(BASE_FILES))
def test_fast_and_reference_agree_on_the_fixture(path: str) -> None:
    assert_agree(dedent(BASE_FILES[path]))


# --- hand-written edge cases -------------------------------------------------------

EDGE_CASES = {
    # YAML 1.1 booleans are strings in 1.2; only true/false (three spellings) are bools
    "bool-1.1": "a: [yes, No, ON, off, y, N, Yes, NO]\n",
    "bool-1.2": "a: [true, True, TRUE, false, False, FALSE, tRUE]\n",
    # integers: decimal, 0o octal, 0x hex; 012 is twelve; 1_000 and 0b1 are strings
    "int": "a: [0, -1, +12, 012, 0o17, 0x1F, 0xff, 1_000, 0b101, 0X1F, +0x1F, _1, 1_]\n",
    "int-big": "a: 123456789012345678901234567890\n",
    "float": "a: [1.5, -0.5, .5, 1., 1e3, 1E-3, +1.0e+10, 6.02e23, 1_0.5]\n",
    "float-special": "a: [.inf, -.Inf, +.INF, .nan, .NaN, inf, nan, .infinity]\n",
    "null": "a: [~, null, Null, NULL, nUll, '', \"\"]\nb:\nc: ~\n",
    "date": "a: 2026-01-01\nb: 2026-1-1\nc: 2025-02-30\nd: 0000-01-01\n",
    "timestamp": "a: 2026-01-01T10:00:00Z\nb: 2026-01-01 10:00:00.5 +01:00\nc: 12:30\n",
    "sexagesimal": "a: 1:20:30\nb: 190:20:30\n",
    "quoted": "a: 'it''s'\nb: \"tab\\there\\nnew\"\nc: \"\\u00e9\\x41\"\nd: '1'\ne: \"true\"\n",
    "quoted-multiline": "a: \"one\n  two\n\n  three\"\nb: 'x\n  y'\n",
    "plain-multiline": "a: one\n  two\n  three\nb: x\n",
    "block-literal": "a: |\n  line 1\n   indented\n\n  line 3\nb: |-\n  no newline\n",
    "block-folded": "a: >\n  folded\n  text\n\n  para\nb: >+\n  keep\n\n",
    "block-indicator": "a: |2\n   two spaces kept\nb: >-\n  x\n",
    "block-empty": "a: |\nb: >\nc: |-\n",
    "block-empty-at-end": "a: 1\nb: |\n",
    "anchors": "a: &x {b: 1, c: [2, 3]}\nd: *x\ne: &y text\nf: [*y, *y]\n",
    "merge-key-is-a-key": "a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n",
    "unicode": 'name: Müller & Søn 日本 🚜\nnote: "\\U0001F69C"\n',
    "comments": "# head\na: 1  # after\n# between\nb: [1, 2] # flow\n",
    "flow": "a: {b: [1, {c: d}], e: 'f'}\ng: [ ]\nh: { }\n",
    "nested-block": "a:\n  - b: 1\n    c:\n      - [x, y]\n      - d: e\n",
    "key-types": "1: a\ntrue: b\n~: c\n2026-01-01: d\n",
    "colons-and-hashes": "a: b:c\nd: e#f\ng: 'h: i'\nurl: https://x.example/a?b=c#d\n",
    "crlf": "a: 1\r\nb: [2, 3]\r\nc: |\r\n  x\r\n",
    "document-markers": "---\na: 1\n...\n",
    "directive": "%YAML 1.2\n---\n- a\n",
    "explicit-key": "? a\n: 1\n",
    "str-tag": "a: !!str 2026-01-01\nb: !!str 1\n",
    "empty": "",
    "only-comment": "# nothing\n",
    "only-document-start": "---\n",
    "scalar-document": "hello\n",
    "list-document": "- a\n- b\n",
    # the same error on either path
    "two-documents": "a: 1\n---\nb: 2\n",
    "duplicate-key": "a: 1\nb: 2\na: 3\n",
    "duplicate-flow-key": "a: {b: 1, b: 2}\n",
    "unclosed-flow": "a: [1, 2\n",
    "bad-indent": "a: 1\n  b: 2\n",
    "tab-indent": "a:\n\t- b\n",
    "tab-after-colon": "a:\t1\n",
    "python-tag": "a: !!python/object/apply:os.system [ls]\n",
    "local-tag": "a: !thing x\n",
    "set-tag": "a: !!set {x, y}\n",
    "binary-tag": "a: !!binary aGVsbG8=\n",
    "timestamp-tag": "a: !!timestamp 2026-01-01\n",
    "int-tag": "a: !!int '3'\n",
    "nul": "a: b\x00c\n",
    "bell": "a: \x07\n",
    "undefined-alias": "a: *nowhere\n",
    "lone-surrogate-escape": 'a: "\\ud800"\n',
    "deep-flow": "a: " + "[" * 65 + "]" * 65 + "\n",
    "deep-block": "a:\n  " + "- " * 65 + "x\n",
    "not-too-deep": "a: " + "[" * 63 + "]" * 63 + "\n",
    # found by fuzzing (bench/fuzz.py): yaml_rs read these, libyaml refuses them
    "empty-key": ": x\n",
    "empty-key-in-a-list": "a:\n  - : x\n",
    "colon-scalar-in-flow": "a: [b, :c]\n",
    "odd-anchor-name": "a: &a.b x\nb: *a.b\n",
    "non-ascii-anchor-name": "a: &\u00e9 x\n",
    "anchor-defined-twice": "a: &a x\nb: &a y\n",
    "content-after-document-end": "a: 1\n...\nb: 2\n",
    "document-end-first": "...\na: 1\n",
    "lone-cr": "a: |\rb\n",
    "block-scalar-at-the-root": "|-\n- id: x\n",
    "int-too-long": "a: " + "9" * 4301 + "\n",
    "hex-too-long": "a: 0x" + "f" * 3573 + "\n",
    # and these they read alike
    "document-end-last": "a: 1\n...\n",
    "int-longest": "a: -" + "9" * 4300 + "\n",
    "ampersand-in-a-name": "a: Müller & Søn\nb: R&D *new*\n",
    "anchor-with-dash": "a: &x-1 [1]\nb: *x-1\n",
    # the "billion laughs" shape: each line ten aliases of the one before
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6)
    ),
}


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_fast_and_reference_agree_on_edge_cases(text: str) -> None:
    assert_agree(text)


def test_yaml_1_2_reading_of_the_edge_cases() -> None:
    """What both paths return: YAML 1.2's core schema, dates as strings."""
    assert parse(EDGE_CASES["bool-1.1"])["a"] == ["yes", "No", "ON", "off", "y", "N", "Yes", "NO"]
    assert parse(EDGE_CASES["bool-1.2"])["a"] == [True, True, True, False, False, False, "tRUE"]
    assert typed(parse(EDGE_CASES["int"])["a"]) == typed(
        [0, -1, 12, 12, 15, 31, 255, "1_000", "0b101", "0X1F", "+0x1F", "_1", "1_"]
    )
    assert parse(EDGE_CASES["date"]) == {
        "a": "2026-01-01",
        "b": "2026-1-1",
        "c": "2025-02-30",
        "d": "0000-01-01",
    }
    assert parse(EDGE_CASES["timestamp"])["a"] == "2026-01-01T10:00:00Z"
    assert parse(EDGE_CASES["null"]) == {
        "a": [None, None, None, None, "nUll", "", ""],
        "b": None,
        "c": None,
    }
    assert parse(EDGE_CASES["block-empty-at-end"]) == {"a": 1, "b": ""}
    assert parse(EDGE_CASES["merge-key-is-a-key"])["c"] == {"<<": {"b": 1}, "d": 2}
    assert parse(EDGE_CASES["str-tag"]) == {"a": "2026-01-01", "b": "1"}
    special = parse(EDGE_CASES["float-special"])["a"]
    assert special[:3] == [math.inf, -math.inf, math.inf] and math.isnan(special[3])
    assert special[5:] == ["inf", "nan", ".infinity"]


@pytest.mark.parametrize(
    ("name", "line", "column", "message"),
    [
        ("two-documents", 2, 1, "holds several"),
        ("duplicate-key", 3, 1, "duplicate mapping key: 'a'"),
        ("python-tag", 1, 4, "tag '!!python/object/apply:os.system' is not allowed"),
        ("set-tag", 1, 4, "tag '!!set' is not allowed"),
        ("nul", 1, 5, "U+0000"),
        ("deep-flow", 1, 67, "nested more than 64 levels deep"),
        ("deep-block", 2, 129, "nested more than 64 levels deep"),
        ("alias-bomb", 5, 36, "alias"),
    ],
)
@pytest.mark.parametrize("read", [parse, parse_reference], ids=["fast", "reference"])
def test_parse_errors_have_a_position(
    read: Any, name: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(ParseError) as error:
        read(EDGE_CASES[name])
    assert (error.value.line, error.value.column) == (line, column)
    assert message in error.value.message


FOUND_BY_FUZZING = [
    "empty-key", "empty-key-in-a-list", "colon-scalar-in-flow", "odd-anchor-name",
    "non-ascii-anchor-name", "anchor-defined-twice", "content-after-document-end",
    "document-end-first", "lone-cr", "block-scalar-at-the-root", "int-too-long", "hex-too-long",
]  # fmt: skip


@pytest.mark.parametrize("name", FOUND_BY_FUZZING)
def test_what_libyaml_refuses_is_refused_on_the_fast_path_too(name: str) -> None:
    """The fast path once returned data for each (a second document, a null key, an
    integer no message can print); now both paths refuse it, at a position."""
    text = EDGE_CASES[name]
    with pytest.raises(ParseError) as error:
        parse(text)
    assert error.value.line is not None and error.value.line >= 1


def test_an_integer_past_4300_digits_is_refused_where_it_starts() -> None:
    for read in (parse, parse_reference):
        with pytest.raises(ParseError) as error:
            read("id: x\nn: " + "9" * 4301 + "\n")
        assert (error.value.message, error.value.line, error.value.column) == (
            "an integer of more than 4300 digits",
            2,
            4,
        )
    assert len(str(parse("n: " + "9" * 4300 + "\n")["n"])) == 4300


# --- generated documents ----------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
    | st.sampled_from(["yes", "no", "on", "off", "null", "~", "2026-01-01", "12:30", "1_0", ""])
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(data=documents, flow=st.sampled_from([None, True, False]), width=st.sampled_from([20, 80]))
def test_fast_and_reference_agree_on_dumped_data(data: Any, flow: bool | None, width: int) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, width=width)
    assert_agree(text)


FORBIDDEN = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10, 13)]
FORBIDDEN += ["\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"]


@FUZZ
@given(data=documents)
def test_dumped_json_is_read_back_exactly(data: Any) -> None:
    """JSON is YAML 1.2: both paths read a JSON document back as the same data."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        assume(False)  # JSON has no infinity
    assert_agree(text)
    if not any(c in text for c in FORBIDDEN):  # YAML forbids some characters JSON allows
        assert typed(parse(text)) == typed(json.loads(text))


PLAIN = [
    "a", "Acme GmbH", "x y z", "yes", "No", "on", "OFF", "y", "true", "False", "null", "~",
    "0", "-1", "+7", "012", "0o17", "0x1F", "1_000", "0b11", "1.5", ".5", "1e3", "-.inf",
    ".NaN", "2026-01-01", "2026-01-01T10:00:00Z", "12:30", "1:2:3", "a:b", "a#b", "é",
    "日本", "100%", "a-b_c.d", "x!", "Hello !", "0.1.2", "-x", "?x", ":x", "5 €",
]  # fmt: skip
KEYS = ["id", "name", "on", "yes", "1", "null", "a b", "expected_close", "x-ext", "日本"]
words = st.from_regex(r"[A-Za-z][A-Za-z0-9 .;()/-]{0,12}[A-Za-z0-9]", fullmatch=True)
# within the BMP: an escaped astral character is a surrogate pair, which YAML refuses
free_text = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Cn", "Zl", "Zp"),
        blacklist_characters="\ufeff",
        max_codepoint=0xFFFF,
    ),
    max_size=15,
)


@st.composite
def raw_scalar(draw: st.DrawFn, indent: int) -> str:
    kind = draw(st.sampled_from(["plain", "word", "single", "double", "block", "flow", "alias"]))
    if kind == "plain":
        return " " + draw(st.sampled_from(PLAIN))
    if kind == "word":
        return " " + draw(words)
    if kind == "single":
        return " '" + draw(free_text).replace("'", "''") + "'"
    if kind == "double":
        return " " + json.dumps(draw(free_text), ensure_ascii=draw(st.booleans()))
    if kind == "flow":
        items = draw(st.lists(st.sampled_from(PLAIN[:20]) | words, max_size=4))
        return " [" + ", ".join(items) + "]"
    if kind == "alias":
        return " *anchor"
    header = draw(st.sampled_from(["|", ">", "|-", ">-", "|+", ">+"]))
    lines = draw(st.lists(words | st.just(""), min_size=1, max_size=3))
    pad = " " * (indent + 2)
    return " " + header + "".join(f"\n{pad}{line}" if line else "\n" for line in lines)


@st.composite
def raw_mapping(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    keys = draw(st.lists(st.sampled_from(KEYS) | words, min_size=1, max_size=4, unique=True))
    pad = " " * indent
    out = []
    for n, key in enumerate(keys):
        key_text = key if key not in ("on", "yes", "1", "null") else f'"{key}"'
        anchor = " &anchor" if n == 0 and depth == 0 and draw(st.booleans()) else ""
        nested = depth < 2 and draw(st.integers(0, 3)) == 0
        if nested and not anchor:
            if draw(st.booleans()):
                out.append(f"{pad}{key_text}:\n" + draw(raw_mapping(indent + 2, depth + 1)))
            else:
                items = draw(st.lists(raw_scalar(indent + 2), min_size=1, max_size=3))
                items = [i for i in items if i != " *anchor"] or [" x"]
                out.append(f"{pad}{key_text}:\n" + "".join(f"{pad}  -{i}\n" for i in items))
            continue
        value = draw(raw_scalar(indent))
        if value == " *anchor" and (anchor or n == 0 or depth > 0):
            value = " plain"
        comment = draw(st.sampled_from(["", "  # note", " #x"]))
        if value.lstrip().startswith(("|", ">")):
            comment = ""
        out.append(f"{pad}{key_text}:{anchor}{value}{comment}\n")
    if depth == 0 and "&anchor" not in "".join(out):
        out = [line.replace("*anchor", "plain") for line in out]
    return "".join(out)


@FUZZ
@given(text=raw_mapping())
@example(text="a: |\n")
@example(text="on: yes\nn: 0o17\n")
def test_fast_and_reference_agree_on_raw_yaml(text: str) -> None:
    assert_agree(text)
    assert outcome(parse, text) != "ParseError", text


# --- the two schema validators agree ----------------------------------------------


def schema_of(path: str) -> str | None:
    place = classify(path)
    if place is None:
        return "crm" if path == "crm.yaml" else None
    if place.kind == "catalog":
        return place.name
    return RECORD_FOLDERS.get(place.name)


def example_records() -> Iterator[tuple[str, str, Any]]:
    """(name, schema, data) of every example file and of the fixture."""
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        rel = path.relative_to(EXAMPLE).as_posix()
        name = schema_of(rel)
        if name is not None:
            yield f"example-repo/{rel}", name, parse(path.read_text("utf-8"))
    for rel, text in sorted(BASE_FILES.items()):
        name = schema_of(rel)
        if name is not None:
            yield f"fixture/{rel}", name, parse(dedent(text))


RECORDS = list(example_records())


def assert_validators_agree(name: str, data: Any) -> bool:
    fast = fast_validator(name).is_valid(data)
    reference = reference_validator(name).is_valid(data)
    assert fast == reference, (name, data)
    return bool(fast)


@pytest.mark.parametrize(("schema", "data"), [r[1:] for r in RECORDS], ids=[r[0] for r in RECORDS])
def test_validators_agree_on_example_files(schema: str, data: Any) -> None:
    assert assert_validators_agree(schema, data)  # and the example is valid


def entries(data: Any) -> list[dict[str, Any]]:
    """The mappings a mutation may touch: the record, or a catalog's entries."""
    if isinstance(data, dict):
        return [data]
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


WRONG_VALUES = [
    None, True, 0, -1, 1.5, math.inf, "", "x", "2025-02-30", "2026-13-01", "not-an-email",
    "sales@", "a@b", "Upper Case", "http://x y", "DE\n", [], ["x"], {}, {"a": 1},
]  # fmt: skip


@FUZZ
@given(
    record=st.sampled_from(RECORDS) if RECORDS else st.nothing(),
    choice=st.randoms(use_true_random=False),
    value=st.sampled_from(WRONG_VALUES),
    how=st.sampled_from(["drop", "set", "add-unknown", "set-nested"]),
)
def test_validators_agree_on_mutated_examples(
    record: tuple[str, str, Any], choice: Any, value: Any, how: str
) -> None:
    _, name, original = record
    data = copy.deepcopy(original)
    targets = entries(data)
    if not targets:
        return
    target = choice.choice(targets)
    keys = sorted(target)
    if how == "drop" and keys:
        del target[choice.choice(keys)]
    elif how == "set" and keys:
        target[choice.choice(keys)] = value
    elif how == "add-unknown":
        target["no_such_field"] = value
    else:
        nested = [k for k in keys if isinstance(target[k], (list, dict)) and target[k]]
        if not nested:
            return
        inner = target[choice.choice(nested)]
        if isinstance(inner, list):
            inner[choice.randrange(len(inner))] = value
        else:
            inner[choice.choice(sorted(inner))] = value
    assert_validators_agree(name, data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("opened", "2025-02-30"),
        ("opened", "2026-02-29"),
        ("expected_close", "2026-06-31"),
        ("amount", math.inf),
        ("amount", -1),
        ("probability", 100.5),
        ("status", "open"),
        ("id", "../etc"),
    ],
)
def test_validators_agree_and_reject_a_bad_opportunity(field: str, value: Any) -> None:
    data = parse(dedent(BASE_FILES["opportunities/2026/01/acme-forklifts.yaml"]))
    data[field] = value
    assert not assert_validators_agree("opportunity", data)


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("sales@acme.example", True),
        ("first.last+crm@sub.acme.example", True),
        ('"quoted local"@acme.example', True),
        ("user@[192.0.2.1]", True),
        ("user@localhost", True),
        ("not-an-email", False),
        ("sales@", False),
        ("@acme.example", False),
        ("a..b@acme.example", False),
        ("a b@acme.example", False),
        ("müller@acme.example", False),
        ("sales@acme_example.com", False),
        ("sales@-acme.example", False),
        ("sales@acme.example.", False),
        ("sales@[300.1.1.1]", False),
    ],
)
def test_validators_agree_on_emails(email: str, valid: bool) -> None:
    data = {"id": "x", "name": "X", "roles": ["customer"], "email": email}
    assert assert_validators_agree("partner", data) is valid


@pytest.mark.parametrize(
    ("website", "valid"),
    [
        ("https://acme.example/path?q=1#top", True),
        ("http://[::1]:8080/", True),
        ("https://xn--mller-kva.example", True),
        ("https://müller.example", False),
        ("https://acme.example/%zz", False),
        ("https://acme.example/a|b", False),
        ("ftp://acme.example", False),
    ],
)
def test_validators_agree_on_urls(website: str, valid: bool) -> None:
    data = {"id": "x", "name": "X", "roles": ["customer"], "website": website}
    assert assert_validators_agree("partner", data) is valid


# --- locate ---------------------------------------------------------------------

RECORD = """\
# yaml-language-server: $schema=../.crm/schema/opportunity.schema.json
id: acme
name: Acme forklifts
contacts: [jane, jim]
lines:
  - product: forklift
    quantity: 2
  - {product: mast, quantity: 1}
insight:
  problem: |
    Pallets pile up
    in the yard.
  pain: slow
empty:
"""


def span_of(pointer: tuple[str | int, ...], at_key: bool = False) -> Span:
    return locate(compose(RECORD), pointer, at_key)


@pytest.mark.parametrize(
    ("pointer", "at_key", "expected"),
    [
        pytest.param((), False, Span(2, 1, 2, 3), id="the-record-is-its-first-key"),
        pytest.param(("name",), False, Span(3, 7, 3, 21), id="a-scalar"),
        pytest.param(("name",), True, Span(3, 1, 3, 5), id="a-key"),
        pytest.param(("contacts", 1), False, Span(4, 18, 4, 21), id="in-a-flow-sequence"),
        pytest.param(("contacts",), False, Span(4, 11, 4, 22), id="a-flow-sequence"),
        pytest.param(("lines", 0, "quantity"), False, Span(7, 15, 7, 16), id="in-a-block-list"),
        pytest.param(("lines", 0), False, Span(6, 5, 6, 6), id="a-block-mapping-first-line"),
        pytest.param(("lines", 1, "product"), False, Span(8, 15, 8, 19), id="in-a-flow-mapping"),
        pytest.param(("lines", 1, "quantity"), True, Span(8, 21, 8, 29), id="a-key-in-flow"),
        pytest.param(("insight", "problem"), False, Span(10, 12, 10, 13), id="a-block-scalar"),
        pytest.param(("insight", "pain"), False, Span(13, 9, 13, 13), id="after-a-block-scalar"),
        pytest.param(("empty",), False, Span(14, 7, 14, 7), id="an-empty-value"),
        pytest.param(("lines", 5, "quantity"), False, Span(6, 3, 6, 4), id="missing-index"),
        pytest.param(("insight", "reasons"), False, Span(10, 3, 10, 4), id="missing-key"),
        pytest.param(("nowhere", "deeper"), False, Span(2, 1, 2, 3), id="missing-at-the-root"),
        pytest.param(("name", "deeper"), False, Span(3, 7, 3, 21), id="below-a-scalar"),
    ],
)
def test_locate(pointer: tuple[str | int, ...], at_key: bool, expected: Span) -> None:
    assert span_of(pointer, at_key) == expected


def test_locate_without_a_tree_is_the_first_character() -> None:
    assert locate(None, ("a", 1)) == Span(1, 1, 1, 1)


def test_locate_in_a_catalog() -> None:
    root = compose("- id: a\n  name: A\n- id: b\n  stages: [x, y]\n")
    assert locate(root, (1, "stages", 1)) == Span(4, 15, 4, 16)
    assert locate(root, ()) == Span(1, 1, 1, 2)  # a block sequence: its first line


def test_a_quoted_scalar_continued_on_the_next_line_reads_the_same_on_both_paths() -> None:
    # yaml_rs refuses this valid YAML; the fast path hands it to the reference path
    for text in ('a: "x\n y"\nstage: q\n', 'a: "x\ny"\n', "a: 'one\n  two'\n"):
        assert parse(text) == parse_reference(text)


# --- top-level fields found on their lines (no composing) ---------------------------


def assert_lines_locate_like_compose(text: str) -> dict[str, Slot] | None:
    """Every span read from the lines is the one PyYAML's marks give."""
    try:
        data = parse(text)
    except ParseError:
        return None
    slots = top_level_slots(text, data)
    if slots is None:
        return None
    root = compose(text)
    for key in data:
        for at_key in (False, True):
            span = locate_top_level(slots, text, (key,), at_key)
            if span is not None:
                assert span == locate(root, (key,), at_key), (text, key, at_key)
    return slots


@pytest.mark.parametrize("path", example_files())
def test_lines_locate_top_level_fields_of_example_files(path: Path) -> None:
    text = path.read_text("utf-8")
    slots = assert_lines_locate_like_compose(text)
    place = classify(path.relative_to(EXAMPLE).as_posix())
    if place is not None and place.kind == "record":  # plainly laid out: found on lines
        assert slots is not None
        assert slots["id"].value is not None


@FUZZ
@given(text=raw_mapping())
def test_lines_locate_like_compose_on_raw_yaml(text: str) -> None:
    assert_lines_locate_like_compose(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("tags: [a,\nstage: b]\nstage: c\n", id="a-key-line-inside-a-flow-list"),
        pytest.param('notes: "one\nstage: two"\n', id="a-key-line-inside-a-quoted-scalar"),
        pytest.param('"stage": a\nname: b\n', id="a-quoted-key"),
        pytest.param("? stage\n: a\n", id="an-explicit-key"),
        pytest.param("{stage: a, name: b}\n", id="a-flow-mapping"),
        pytest.param("- stage: a\n", id="a-list"),
    ],
)
def test_lines_give_way_to_compose_when_they_cannot_tell(text: str) -> None:
    try:
        data = parse(text)
    except ParseError:
        return
    assert top_level_slots(text, data) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("notes: one\n  two\nstage: a\n", "notes", id="a-plain-scalar-on-two-lines"),
        pytest.param("stage: 'a'\n", "stage", id="quoted"),
        pytest.param("stage: a  # moved\n", "stage", id="commented"),
        pytest.param("stage: |\n  a\n", "stage", id="a-block-scalar"),
        pytest.param("stage:\n  - a\n", "stage", id="a-block-list"),
        pytest.param("stage: &x a\nname: *x\n", "name", id="an-alias"),
    ],
)
def test_only_one_line_plain_scalars_have_a_value_slot(text: str, key: str) -> None:
    slots = assert_lines_locate_like_compose(text)
    assert slots is not None
    commented = text == "stage: a  # moved\n"
    assert (slots[key].value is not None) == commented


# --- which texts take the reference path for their flow collections ------------------

PEOPLE = "".join(
    f"- id: p{n}\n  name: Person {n} O'Neill # [lead]\n  emails: [p{n}@example.com]\n"
    f"  roles: [sales, manager]\n"
    for n in range(40)
)


def test_many_short_flow_lists_stay_on_the_fast_path() -> None:
    """A team of 40 with an e-mail and a role list each: 80 flow lists, none nested."""
    assert not needs_reference(PEOPLE)
    assert_agree(PEOPLE)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: " + "[" * 30 + "]" * 30 + "\n", id="nested"),
        pytest.param("a: " + '[ "]", ' * 30 + "x" + "]" * 30 + "\n", id="closers-in-quotes"),
        pytest.param("a: " + "[ ']', " * 30 + "x" + "]" * 30 + "\n", id="closers-in-single-quotes"),
        pytest.param("a: " + "[ # ]\n" * 30 + "x" + "]" * 30 + "\n", id="closers-in-comments"),
        pytest.param("- " + "[ a\n- b, " * 30 + "x" + "]" * 30 + "\n", id="item-lines-in-a-scalar"),
        pytest.param("a: " + "{k: " * 30 + "x" + "}" * 30 + "\n", id="flow-mappings"),
    ],
)
def test_flow_nesting_that_may_run_deep_takes_the_reference_path(text: str) -> None:
    assert needs_reference(text)
    assert_agree(text)


def test_a_lazy_module_is_imported_once_at_first_use_from_any_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import threading

    from crmfiles import lazy_module

    (tmp_path / "lazy_probe.py").write_text(
        "import time\nLOADS = __import__('builtins').__dict__.setdefault('_probe_loads', [])\n"
        "LOADS.append(1)\ntime.sleep(0.05)\nVALUE = 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_probe", raising=False)
    probe = lazy_module("lazy_probe")
    assert "lazy_probe" not in sys.modules
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(probe.VALUE)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [42] * 8
    import builtins

    assert builtins.__dict__.pop("_probe_loads") == [1]
