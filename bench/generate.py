"""Generate a synthetic CRM repository: deterministic, valid, realistic.

    python bench/generate.py DIR --opportunities N [--commits C] [--seed S]

writes into DIR (which must not exist or be empty) a complete CRM repository:
``crm.yaml``, every catalog, N/10 partners, N/5 contacts and N opportunities of about
1.2 KB of YAML each in the by-month layout (``opportunities/YYYY/MM/<id>.yaml``), as one
commit, followed by C stage-change commits (each moves one opportunity one stage
forward and sets the new stage's probability; authors rotate through the people;
dates spread over 18 months).  The same arguments always give the same commit ids.

Every commit, the first included, goes through one ``git fast-import`` process: it
writes one pack instead of one loose object per file (``git add`` of 100,000 files
leaves 130,000 loose objects, about 500 MB on disk, and sets off ``git gc --auto`` in
the middle of whatever is measured next), and 20,000 commits take seconds.  At the
end ``git read-tree -u --reset HEAD`` writes the work tree and the index from HEAD.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

import world as w

INITIAL_TIME = int(dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC).timestamp())
HISTORY_SECONDS = 548 * 86400  # stage changes spread over about 18 months
FIRST_OPENED = dt.date(2022, 1, 1)
OPENED_DAYS = 3 * 365  # opportunities opened 2022-2024
BOT = "crmfiles bench <bench@crmfiles.example>"


def slug(text: str) -> str:
    out = []
    for ch in text.lower().translate(w.ASCII_FOLD):
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    return "-".join(filter(None, "".join(out).split("-")))


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([x[0] for x in weighted], [x[1] for x in weighted])[0]


def email_of(person: str) -> str:
    return f"{person}@bench.example"


# --- parties --------------------------------------------------------------------------


@dataclass
class Partner:
    id: str
    name: str
    competitor: bool
    contacts: list[str] = field(default_factory=list)


def partners_and_contacts(
    rng: random.Random, n_partners: int, n_contacts: int
) -> tuple[list[Partner], list[tuple[str, str]], list[tuple[str, bytes]]]:
    """Partners (a tenth of them competitors), contacts spread over them, and the files."""
    partners: list[Partner] = []
    files: list[tuple[str, bytes]] = []
    ids: set[str] = set()
    names: set[str] = set()
    n_competitors = max(2, n_partners // 10)
    for i in range(n_partners):
        while True:
            base = f"{rng.choice(w.FIRMS)} {rng.choice(w.TRADES)}"
            if base not in names:
                break
            if rng.random() < 0.3:  # the combinations run out at 100,000 opportunities
                base = f"{base} {rng.choice(w.CITIES)[0]}"
                if base not in names:
                    break
        names.add(base)
        pid = unique(slug(base), ids)
        legal = rng.choice(w.LEGAL)
        competitor = i < n_competitors
        partners.append(Partner(pid, base, competitor))
        city, country, postal = rng.choice(w.CITIES)
        roles = "[competitor]" if competitor else rng.choice(("[customer]", "[prospect]",
                                                              "[customer, supplier]"))  # fmt: skip
        domain = pid[:40].strip("-.") + ".example"
        text = (
            f"id: {pid}\n"
            f"name: {base}\n"
            f"legal_name: {base} {legal}\n"
            f"roles: {roles}\n"
            f"country: {country}\n"
            f"industry: {rng.choice(w.INDUSTRIES)}\n"
            f"website: https://www.{domain}\n"
            f"email: info@{domain}\n"
            f"phone: +49 40 {rng.randrange(1000000, 9999999)}\n"
            "address:\n"
            f"  street: {rng.choice(w.STREETS)} {rng.randrange(1, 200)}\n"
            f"  city: {city}\n"
            f"  postal_code: '{postal}'\n"
            f"  country: {country}\n"
            f"responsible: {rng.choice(w.SALES)}\n"
        )
        files.append((f"partners/{pid}.yaml", text.encode()))
    contacts: list[tuple[str, str]] = []
    contact_ids: set[str] = set()
    for i in range(n_contacts):
        partner = partners[i % n_partners] if i < n_partners else rng.choice(partners)
        first, last = rng.choice(w.FIRST), rng.choice(w.LAST)
        cid = unique(slug(f"{first} {last}"), contact_ids)
        partner.contacts.append(cid)
        contacts.append((cid, partner.id))
        local = slug(f"{first}.{last}").replace("-", ".")
        text = (
            f"id: {cid}\n"
            f"name: {first} {last}\n"
            f"partner: {partner.id}\n"
            f"position: {rng.choice(w.POSITIONS)}\n"
            f"email: {local}@{partner.id[:40].strip('-.')}.example\n"
            f"phone: +49 171 {rng.randrange(1000000, 9999999)}\n"
            f"language: {rng.choice(('de', 'en', 'fr', 'de-CH'))}\n"
        )
        files.append((f"contacts/{cid}.yaml", text.encode()))
    return partners, contacts, files


def unique(base: str, taken: set[str]) -> str:
    base = base[:72].strip("-.") or "x"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


# --- catalogs -------------------------------------------------------------------------


def catalog_files() -> list[tuple[str, bytes]]:
    def seq(entries: list[list[str]]) -> bytes:
        out = []
        for entry in entries:
            out.append("- " + entry[0])
            out.extend("  " + line for line in entry[1:])
        return ("\n".join(out) + "\n").encode()

    stages = []
    for sid, (name, probability, requires) in w.STAGES.items():
        entry = [f"id: {sid}", f"name: {name}", f"probability: {probability}"]
        if requires:
            entry.append(f"requires: [{', '.join(requires)}]")
        if sid == "proposal":
            entry += [
                "tasks:",
                "  - title: Send the proposal",
                "    due_days: 5",
                "    importance: high",
            ]
        stages.append(entry)
    kinds = []
    for kid, (name, ktype, allowed, demand, kstages) in w.KINDS.items():
        entry = [
            f"id: {kid}",
            f"name: {name}",
            f"type: {ktype}",
            f"allowed: {str(allowed).lower()}",
        ]
        entry.append(f"record_primary_demand: {str(demand).lower()}")
        if kstages:
            entry.append(f"stages: [{', '.join(kstages)}]")
        kinds.append(entry)
    people = [
        [f"id: {pid}", f"name: {name}", f"emails: [{email_of(pid)}]",
         f"roles: [{', '.join(roles)}]", f"forge: {pid}-bench"]
        for pid, name, roles in w.PEOPLE
    ]  # fmt: skip
    products = [
        [f"id: {pid}", f"name: {name}", f"unit: {unit}", f"price: {price}", "currency: EUR"]
        for pid, name, unit, price, _ in w.PRODUCTS
    ]
    return [
        ("crm.yaml", b"version: 1\nname: Bench Logistics Systems\ncurrency: EUR\n"),
        ("catalogs/stages.yaml", seq(stages)),
        ("catalogs/kinds.yaml", seq(kinds)),
        (
            "catalogs/loss-reasons.yaml",
            seq([[f"id: {i}", f"name: {n}"] for i, n in w.LOSS_REASONS]),
        ),
        (
            "catalogs/channels.yaml",
            seq([[f"id: {i}", f"name: {n}", f"impact: {m}"] for i, n, m in w.CHANNELS]),
        ),
        (
            "catalogs/campaigns.yaml",
            seq(
                [
                    [f"id: {i}", f"name: {n}", "channel: event", f"start: {s}", f"end: {e}"]
                    for i, n, s, e in w.CAMPAIGNS
                ]
            ),
        ),
        ("catalogs/products.yaml", seq(products)),
        (
            "catalogs/terms.yaml",
            seq([[f"id: {i}", f"name: {n}", f"payment_days: {d}"] for i, n, d in w.TERMS]),
        ),
        (
            "catalogs/tags.yaml",
            seq([[f"id: {t}", f"name: {t.replace('-', ' ').capitalize()}"] for t in w.TAGS]),
        ),
        ("catalogs/people.yaml", seq(people)),
        (
            "catalogs/currencies.yaml",
            seq(
                [
                    [f"id: {c}", f"name: {n}", f"rate: {r}", "rate_date: 2025-01-01"]
                    for c, n, r in w.CURRENCIES
                ]
            ),
        ),
    ]


# --- opportunities --------------------------------------------------------------------


@dataclass
class Plan:
    """What is decided about every opportunity before any text is written (so the
    history can be planned first): status, kind and the stage it starts in."""

    status: bytearray
    kind: bytearray
    stage: bytearray  # index into the kind's stages
    moves: list[tuple[int, int]]  # (opportunity, stage index it moves to), in commit order


KIND_IDS = tuple(w.KINDS)
STATUS_IDS = ("in_progress", "won", "lost")


def plan(rng: random.Random, n: int, commits: int) -> Plan:
    status = bytearray(STATUS_IDS.index(pick(rng, w.STATUS_WEIGHTS)) for _ in range(n))
    kind = bytearray(KIND_IDS.index(pick(rng, w.KIND_WEIGHTS)) for _ in range(n))
    stage = bytearray(n)
    movable = [i for i in range(n) if status[i] == 0 and w.KINDS[KIND_IDS[kind[i]]][4]]
    # Start in-progress deals as late in their funnel as the history leaves room for:
    # anywhere without history, all at the first stage for a long one (both staged
    # kinds have five stages: four moves from the first, 4 - (spread - 1) / 2 on average)
    spread = 5
    while spread > 1 and len(movable) * (4 - (spread - 1) / 2) < 1.1 * commits:
        spread -= 1
    for i in range(n):
        stages = w.KINDS[KIND_IDS[kind[i]]][4]
        if not stages:
            continue
        stage[i] = rng.randrange(spread) if status[i] == 0 else len(stages) - 1
    room = [i for i in movable if stage[i] < len(w.KINDS[KIND_IDS[kind[i]]][4]) - 1]
    moves: list[tuple[int, int]] = []
    current = {i: stage[i] for i in room}
    for _ in range(commits):
        if not room:
            raise SystemExit(
                f"generate: {n} opportunities leave room for only {len(moves)} stage "
                "changes; ask for more opportunities or fewer commits"
            )
        slot = rng.randrange(len(room))
        i = room[slot]
        current[i] += 1
        moves.append((i, current[i]))
        if current[i] == len(w.KINDS[KIND_IDS[kind[i]]][4]) - 1:
            room[slot] = room[-1]
            room.pop()
    return Plan(status, kind, stage, moves)


def money_text(value: Decimal) -> str:
    return str(value.quantize(Decimal(1))) if value == value.to_integral() else f"{value:.2f}"


def phrases(rng: random.Random, bank: tuple[str, ...], count: int = 2) -> str:
    return ", ".join(rng.sample(bank, count))


@dataclass
class World:
    partners: list[Partner]
    customers: list[Partner]
    competitors: list[Partner]
    contact_ids: list[str]
    names: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    copies: dict[str, int] = field(default_factory=dict)


def opportunity(rng: random.Random, world: World, p: Plan, i: int) -> tuple[str, str, bytes]:
    """One opportunity: (id, path, YAML bytes), in the state it starts the history in."""
    status = STATUS_IDS[p.status[i]]
    kind = KIND_IDS[p.kind[i]]
    stages = w.KINDS[kind][4]
    partner = rng.choice(world.customers)
    opened = FIRST_OPENED + dt.timedelta(days=rng.randrange(OPENED_DAYS))
    topic = rng.choice(w.TOPICS)
    name = f"{partner.name} - {topic} {opened.year}"
    while name.casefold() in world.names:
        copies = world.copies[name] = world.copies.get(name, 1) + 1
        name = f"{partner.name} - {topic} {opened.year} ({copies})"
    world.names.add(name.casefold())
    oid = unique(slug(name), world.ids)
    currency = pick(rng, w.CURRENCY_WEIGHTS)
    out = [f"id: {oid}", f"name: {name}", f"kind: {kind}"]
    if stages:
        out.append(f"stage: {stages[p.stage[i]]}")
    out.append(f"status: {status}")
    closed = status != "in_progress" and rng.random() < 0.85
    close_date = opened + dt.timedelta(days=rng.randrange(20, 400))
    if closed:
        out += ["closed: true", f"closed_on: {close_date}"]
    if status == "lost":
        reason = rng.choice(w.LOSS_REASONS)[0]
        out += [f"loss_reason: {reason}", f"loss_comment: {rng.choice(w.LOSS_NOTES)}"]
    out.append(f"partner: {partner.id}")
    if partner.contacts:
        chosen = rng.sample(partner.contacts, min(len(partner.contacts), rng.randint(1, 2)))
        out.append(f"contacts: [{', '.join(chosen)}]")
    responsible = rng.choice(w.SALES)
    team = [responsible, *rng.sample([s for s in w.SALES if s != responsible], rng.randint(0, 2))]
    out += [f"responsible: {responsible}", f"team: [{', '.join(team)}]"]
    if status == "won":
        probability = 100
    elif status == "lost":
        probability = 0
    elif stages:
        probability = min(99, max(1, w.STAGES[stages[p.stage[i]]][1] + rng.choice((-5, 0, 0, 5))))
    else:
        probability = rng.choice((30, 50, 70))
    out.append(f"probability: {probability}")
    lines, total = order_lines(rng, currency, kind)
    out += [f"amount: {money_text(total)}", f"currency: {currency}"]
    out += [f"opened: {opened}", f"expected_close: {close_date}"]
    out.append(f"terms: {rng.choice(w.TERMS)[0]}")
    channel, _, impact = rng.choice(w.CHANNELS)
    out.append(f"channel: {channel}")
    source = {
        "partner": lambda: rng.choice([x for x in world.partners[:50] if x is not partner]).id,
        "campaign": lambda: rng.choice(w.CAMPAIGNS)[0],
        "person": lambda: rng.choice(w.SALES),
        "contact": lambda: rng.choice(world.contact_ids),
    }.get(impact)
    if source:
        out.append(f"source: {source()}")
    out.append("lines:")
    out += lines
    if rng.random() < 0.6:
        out.append("competitors:")
        for rival in rng.sample(world.competitors, min(len(world.competitors), rng.randint(1, 2))):
            out.append(f"  - partner: {rival.id}")
            if closed:
                outcome = "lost" if status == "won" else rng.choice(("won", "unknown"))
                out.append(f"    outcome: {outcome}")
            out.append(f"    comment: {rng.choice(w.COMPETITOR_NOTES)}")
    out.append(f"tags: [{', '.join(rng.sample(w.TAGS, rng.randint(1, 3)))}]")
    out.append(f"next_milestone: {rng.choice(w.MILESTONES)}")
    out += ["comment: |", *(f"  {phrases(rng, w.REMARKS)}." for _ in range(rng.randint(1, 3)))]
    out += [
        "insight:",
        f"  problem: {rng.choice(w.SUBJECTS)} {rng.choice(w.PROBLEMS)}",
        f"  pain: {phrases(rng, w.PAINS)}",
        f"  reasons: {rng.choice(w.REASONS)}",
        f"  impacts: {rng.choice(w.IMPACTS)}",
        f"  capabilities: {phrases(rng, w.CAPABILITIES)}",
    ]
    if rng.random() < 0.3:
        out.insert(0, f"# {rng.choice(w.REMARKS)}")
    path = f"opportunities/{opened.year}/{opened.month:02d}/{oid}.yaml"
    return oid, path, ("\n".join(out) + "\n").encode()


def order_lines(rng: random.Random, currency: str, kind: str) -> tuple[list[str], Decimal]:
    """Lines of primary demand and their exact total (what the amount must equal)."""
    out: list[str] = []
    total = Decimal(0)
    products = w.PRODUCTS if kind != "service-hours" else (w.PRODUCTS[4], w.PRODUCTS[12])
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.15:
            out.append(f"  - description: {rng.choice(w.FREE_LINES)}")
            quantity, price = 1, Decimal(rng.randrange(5, 400) * 50)
        else:
            pid, _, _, list_price, (low, high) = rng.choice(products)
            out.append(f"  - product: {pid}")
            quantity = rng.randint(low, high)
            price = (list_price * w.PRICE_FACTOR[currency]).quantize(Decimal(1))
        out += [f"    quantity: {quantity}", f"    unit_price: {price}"]
        discount = rng.choice((0, 0, 5, 10, 15, 20))
        if discount:
            out.append(f"    discount: {discount}")
        if rng.random() < 0.4:
            out.append(f"    margin: {rng.randrange(8, 45)}")
        if rng.random() < 0.3:
            out.append(f"    comment: {rng.choice(w.LINE_NOTES)}")
        total += (quantity * price * (100 - discount) / 100).quantize(Decimal("0.01"))
    return out, total


# --- git ------------------------------------------------------------------------------


def git_env() -> dict[str, str]:
    """git without the user's configuration, hooks or GIT_* variables: the same
    arguments give the same commit ids on any machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    return env


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=root, env=git_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(f"generate: git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


class FastImport:
    """One ``git fast-import`` process for every commit."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"],
            cwd=root,
            env=git_env(),
            stdin=subprocess.PIPE,
        )
        assert self.proc.stdin is not None
        self.out: IO[bytes] = self.proc.stdin

    def commit(self, who: str, when: int, message: str) -> None:
        ident = f"{who} {when} +0000"
        msg = message.encode()
        self.out.write(
            b"commit refs/heads/main\nauthor %s\ncommitter %s\ndata %d\n%s\n"
            % (ident.encode(), ident.encode(), len(msg), msg)
        )

    def file(self, path: str, content: bytes) -> None:
        self.out.write(
            b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content)
        )

    def close(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait():
            raise SystemExit("generate: git fast-import failed")


# --- the whole repository -------------------------------------------------------------


def person_ident(index: int) -> str:
    pid, name, _ = w.PEOPLE[index % len(w.PEOPLE)]
    return f"{name} <{email_of(pid)}>"


def generate(root: Path, opportunities: int, commits: int = 0, seed: int = 1) -> str:
    """Write the repository; return its HEAD commit id."""
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"generate: {root} is not empty")
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    p = plan(random.Random(f"{seed}:plan"), opportunities, commits)
    rng = random.Random(f"{seed}:content")
    partners, contacts, party_files = partners_and_contacts(
        rng, max(3, opportunities // 10), max(2, opportunities // 5)
    )
    world = World(
        partners=partners,
        customers=[x for x in partners if not x.competitor],
        competitors=[x for x in partners if x.competitor],
        contact_ids=[c for c, _ in contacts],
    )
    moved = {i for i, _ in p.moves}
    kept: dict[int, tuple[str, str, bytes]] = {}
    stream = FastImport(root)
    stream.commit(
        BOT,
        INITIAL_TIME,
        f"bench: a synthetic CRM, {opportunities} opportunities (seed {seed})\n",
    )
    for path, content in (*catalog_files(), *party_files):
        stream.file(path, content)
    for i in range(opportunities):
        oid, path, content = opportunity(rng, world, p, i)
        stream.file(path, content)
        if i in moved:
            kept[i] = (oid, path, content)
    history(stream, p, kept, random.Random(f"{seed}:history"))
    stream.close()
    git(root, "read-tree", "-u", "--reset", "HEAD")
    return git(root, "rev-parse", "HEAD").strip()


def history(
    stream: FastImport, p: Plan, texts: dict[int, tuple[str, str, bytes]], rng: random.Random
) -> None:
    """One commit per stage change, as ``crm move`` writes it: the stage and the
    probability lines change, nothing else."""
    count = len(p.moves)
    step = HISTORY_SECONDS / max(count, 1)
    for n, (i, to) in enumerate(p.moves):
        oid, path, content = texts[i]
        stages = w.KINDS[KIND_IDS[p.kind[i]]][4]
        old, new = stages[to - 1], stages[to]
        head, _, rest = content.partition(b"\nstage: %s\n" % old.encode())
        middle, _, tail = rest.partition(b"\nprobability: ")
        tail = tail.partition(b"\n")[2]
        probability = w.STAGES[new][1] + rng.choice((-5, 0, 0, 5))
        content = b"%s\nstage: %s\n%s\nprobability: %d\n%s" % (
            head,
            new.encode(),
            middle,
            probability,
            tail,
        )
        texts[i] = (oid, path, content)
        when = INITIAL_TIME + int((n + 1) * step) - rng.randrange(int(step // 2) + 1)
        stream.commit(
            person_ident(n),
            when,
            f"crm: move {oid} {old} -> {new}\n\n"
            f"Crm-Record: {path}\nCrm-Stage-From: {old}\nCrm-Stage-To: {new}\n",
        )
        stream.file(path, content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="where to write the repository (new or empty)")
    parser.add_argument("--opportunities", "-n", type=int, required=True, metavar="N")
    parser.add_argument("--commits", "-c", type=int, default=0, metavar="C",
                        help="stage-change commits after the first one (default 0)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.opportunities < 1 or args.commits < 0:
        parser.error("need at least one opportunity and no negative commit count")
    start = time.perf_counter()
    head = generate(args.dir, args.opportunities, args.commits, args.seed)
    took = time.perf_counter() - start
    print(
        f"{args.dir}: {args.opportunities} opportunities, {args.commits + 1} commits, "
        f"HEAD {head} ({took:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
