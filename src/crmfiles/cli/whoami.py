"""``crm whoami``: the person git's e-mail is in catalogs/people.yaml, and what their
roles allow (crmfiles/people.py has the one rule for who "me" is)."""

from __future__ import annotations

import argparse
import json
import sys

from crmfiles.config import PEOPLE_FILE, find_root, parse_config, read_config_file
from crmfiles.people import ROLE_ALLOWS, read_people, who_am_i


def add_whoami_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run_whoami(args: argparse.Namespace) -> int:
    from crmfiles.lint import _author_email

    root = find_root(explicit=args.repo)
    config = parse_config(read_config_file(root))
    people = read_people(root)
    me = who_am_i(people, _author_email(root), config.me)
    person = people.get(me.person or "", {})
    roles = [str(r) for r in person.get("roles") or []] if me.person else []
    if args.format == "json":
        payload = {
            "version": 1,
            "email": me.email,
            "person": me.person,
            "name": person.get("name") if me.person else None,
            "roles": roles,
            "allows": {role: ROLE_ALLOWS.get(role, "") for role in roles},
            "views_for": me.id,
        }
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout.write
    if me.email is None:
        out("git has no e-mail for you: set it with `git config user.email you@example.com`\n")
    elif me.person is None:
        out(f"git's e-mail {me.email} belongs to nobody in {PEOPLE_FILE}.\n")
        out(
            "  crm lint reports your stage changes and closes as author-not-allowed "
            "(a warning unless crm.yaml makes it an error),\n"
            "  and reviewers see commits by someone the CRM does not know.\n"
        )
        if me.fallback:
            out(f"  My tasks shows crm.yaml's `me`: {me.fallback}.\n")
        out(f"  hint: add {me.email} to your entry's emails in {PEOPLE_FILE}\n")
        return 0
    if me.person is not None:
        out(f"{person.get('name') or me.person} ({me.person}), {me.email}\n")
        out(f"roles: {', '.join(roles) or 'none'}\n")
        for role in roles:
            out(f"  {role}: {ROLE_ALLOWS.get(role, 'no meaning to crm')}\n")
        if not roles:
            out("  with no role, crm lint reports your stage changes as author-not-allowed\n")
    return 0
