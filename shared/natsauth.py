"""Braided's NATS identities and what each may do: the permission table of the trust
boundary, written once here.

`render()` is the text of deploy/nats/auth.conf (a test keeps the two equal; rewrite
the file with `python -m shared.natsauth > deploy/nats/auth.conf`). The embedded
nats-server of `make run` and the tests runs on the same table (shared/infra.py),
with one generated password per identity kept in DATA_DIR, mode 0600.

Publishing follows ownership: submission alone publishes stories.submitted and
stories.withdrawn, moderation alone the decisions, stories.screened and resources,
publishing alone stories.reported.

Reading follows consumption: an identity reads the stream only through durable
consumers of its own, one per subject it consumes (`Identity.reads`, the event types
of its handler table; a test keeps the two equal), named `<consumer>-<subject>`
(`durable_name`). It may create each only through
`$JS.API.CONSUMER.CREATE.STORIES.<durable>.<subject>`: nats-server refuses that
request unless the configuration's filter is exactly the subject in its name, so no
identity can open a consumer on a subject it does not consume. The unfiltered
CONSUMER.CREATE and the legacy CONSUMER.DURABLE.CREATE, which take any filter, are
not allowed.

Each identity uses only its own rate-limit buckets (the HMAC key bucket included),
and receives replies only on its own inbox prefix (`_INBOX_<user>`), so it cannot
read the answers another identity's requests get. Only the operator (`admin`) may
update the stream's configuration; a service may create the stream when it does not
exist yet, and erase single messages (withdrawn or purged stories). Everything else
is denied.

Known limit: `$JS.API.STREAM.MSG.DELETE.STORIES` names no subject (the sequence is in
the request's body), so it cannot be narrowed: any service identity may erase any
single message of the stream. Erasing is what withdrawal and purging need; it reads
nothing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from shared.events import EVENT_TYPES, STREAM


@dataclass(frozen=True)
class Identity:
    user: str
    publishes: tuple[str, ...]  # event types it owns
    reads: tuple[str, ...]  # event types it consumes from the stream: its handler table, one durable each
    buckets: tuple[str, ...]  # rate-limit scopes (KV buckets ratelimit_<scope>, ratelimit_keys_<scope>)
    note: str
    listens: tuple[str, ...] = ()  # event types it also receives as plain NATS messages (live views)
    # Its consumers' name: the prefix of their durables and the key of its inbox
    # (processed_events.consumer); the user's name unless two identities share a schema.
    consumer: str = ""

    @property
    def inbox(self) -> str:
        return self.consumer or self.user

    def durables(self) -> dict[str, str]:
        """Durable consumer name → the one subject it reads."""
        subjects = sorted({EVENT_TYPES[t].subject for t in self.reads})
        return {durable_name(self.inbox, s): s for s in subjects}


def durable_name(consumer: str, subject: str) -> str:
    """`publishing` reading `stories.prompts.published` → `publishing-prompts-published`
    (consumer names may not contain dots)."""
    return f"{consumer}-{subject.removeprefix('stories.').replace('.', '-')}"


def identity(user: str) -> Identity:
    return next(i for i in SERVICES if i.user == user)


_DECISIONS = ("StoryApproved", "StoryRejected", "StoryUnpublished", "StoryScreened", "ResourcesUpdated",
              "ReportsResolved", "PromptPublished", "PromptClosed")

SERVICES: tuple[Identity, ...] = (
    # Rate-limit scopes: submission's story form and receipt look-ups, moderation's
    # login throttle, publishing's reader reports and "this resonated with me" presses.
    Identity("submission", ("StorySubmitted", "StoryWithdrawn", "StoryAppealed"),
             ("StoryScreened", "StoryApproved", "StoryRejected", "StoryUnpublished", "PromptPublished",
              "PromptClosed"),
             ("submission", "receipts"),
             "the public story form: publishes new, withdrawn and appealed stories, reads moderation's verdicts"),
    Identity("moderation", _DECISIONS, ("StoryWithdrawn", "StoryReported", "StoryAppealed"),
             ("login_pair", "login_client"),
             "the moderators' service: publishes decisions, resources and prompts, reads withdrawals and reports",
             # the queue page's live updates (views/live.py) hear new and reported stories
             listens=("StoryScreened", "StoryReported")),
    Identity("moderation-worker", _DECISIONS, ("StorySubmitted",), (),
             "screening workers: relay moderation's outbox (so its subjects), read stories.submitted only",
             consumer="moderation-screen"),
    Identity("publishing", ("StoryReported",),
             ("StoryApproved", "StoryWithdrawn", "StoryUnpublished", "ResourcesUpdated", "ReportsResolved",
              "PromptPublished", "PromptClosed"),
             ("report", "resonate"),
             "the public feed: publishes reader reports, reads approvals, takedowns, withdrawals, resources"),
)
# Not services: the operator (nats CLI, RUNBOOK.md) and the server's own account.
OPERATOR, SYSTEM = "admin", "sys"
USERS = tuple(i.user for i in SERVICES) + (OPERATOR, SYSTEM)


def password_var(user: str) -> str:
    """The variable (and secret file) holding a user's password: SUBMISSION_NATS_PASSWORD."""
    return user.upper().replace("-", "_") + "_NATS_PASSWORD"


def inbox_prefix(user: str | None) -> str:
    """Where a user's replies arrive; its subscribe permission is this prefix only."""
    return f"_INBOX_{user}" if user else "_INBOX"


def identity_for(command: list[str]) -> str | None:
    """The NATS identity of a `braided ...` child process (`braided run` gives each its own)."""
    if command[:1] == ["serve"] and len(command) > 1:
        return command[1]
    if command[:1] == ["worker"]:
        return "moderation-worker"
    return None


def _q(subject: str) -> str:
    return f'"{subject}"'


def allowed_publish(ident: Identity) -> list[str]:
    js = "$JS.API"
    subjects = [f"{js}.INFO", f"{js}.STREAM.INFO.{STREAM}", f"{js}.STREAM.CREATE.{STREAM}",
                f"{js}.STREAM.MSG.DELETE.{STREAM}"]
    subjects += [EVENT_TYPES[t].subject for t in ident.publishes]
    for d, subject in ident.durables().items():
        # CREATE with the filter in the subject only: the server holds the request's
        # configuration to that filter, so this durable can read `subject` alone.
        subjects += [f"{js}.CONSUMER.INFO.{STREAM}.{d}", f"{js}.CONSUMER.CREATE.{STREAM}.{d}.{subject}",
                     f"{js}.CONSUMER.MSG.NEXT.{STREAM}.{d}", f"$JS.ACK.{STREAM}.{d}.>"]
    for scope in ident.buckets:
        for bucket in (f"ratelimit_{scope}", f"ratelimit_keys_{scope}"):
            subjects += [f"{js}.STREAM.INFO.KV_{bucket}", f"{js}.STREAM.CREATE.KV_{bucket}",
                         f"{js}.DIRECT.GET.KV_{bucket}.>", f"{js}.STREAM.MSG.GET.KV_{bucket}", f"$KV.{bucket}.>"]
    return subjects


def render() -> str:
    """deploy/nats/auth.conf: the accounts, users and permissions."""
    out = [
        "# Braided's NATS identities and what each may do: the permission table of the trust",
        "# boundary. GENERATED from shared/natsauth.py (python -m shared.natsauth > deploy/nats/auth.conf);",
        "# a test keeps the two equal. Compose mounts this file, the NATS Helm chart gets it",
        "# with `--set-file` (deploy/README.md), the embedded server of `make run` and the",
        "# cluster test run on it.",
        "#",
        "# Passwords are variables ($SUBMISSION_NATS_PASSWORD, ...): nats-server resolves a",
        "# $NAME it does not define from its environment, set from secrets",
        "# (deploy/make-secrets.sh for Compose, a Secret in Kubernetes). None is in the repo.",
        "#",
        "# Publishing follows ownership; each identity reads only through its own durable",
        "# consumers, one per subject it consumes, each creatable only with that subject as",
        "# its filter (CONSUMER.CREATE.STORIES.<durable>.<subject>). It uses only its own KV",
        "# buckets and gets replies only on its own inbox prefix (_INBOX_<user>). Only admin",
        "# may update the stream. Everything else is denied. STREAM.MSG.DELETE cannot be",
        "# narrowed by subject (the sequence is in the request body).",
        "",
    ]
    for ident in SERVICES:
        name = ident.user.upper().replace("-", "_") + "_PERMISSIONS"
        out += [f"# {ident.user}: {ident.note}", f"{name} = {{", "  publish: {", "    allow: ["]
        out += [f"      {_q(s)}" for s in allowed_publish(ident)]
        reads = [inbox_prefix(ident.user) + ".>"] + [EVENT_TYPES[t].subject for t in ident.listens]
        out += ["    ]", "  }", f"  subscribe: {{ allow: [{', '.join(_q(s) for s in reads)}] }}", "}", ""]
    out += ["accounts {", "  BRAIDED {", "    jetstream: enabled", "    users: ["]
    for ident in SERVICES:
        perm = ident.user.upper().replace("-", "_") + "_PERMISSIONS"
        out.append(f"      {{ user: {ident.user}, password: ${password_var(ident.user)}, permissions: ${perm} }}")
    out += [
        "      # The operator (nats CLI: stream and consumer info, stream updates, resetting",
        "      # consumers after a restore, RUNBOOK.md). No service runs as it.",
        f"      {{ user: {OPERATOR}, password: ${password_var(OPERATOR)} }}",
        "    ]", "  }",
        "  # The server's own account (cluster-wide monitoring requests).",
        "  SYS {", f"    users: [ {{ user: {SYSTEM}, password: ${password_var(SYSTEM)} }} ]", "  }",
        "}", "system_account: SYS", "",
    ]
    return "\n".join(out)


def ensure_passwords(folder: Path) -> dict[str, str]:
    """One random password per user, each in `folder/<USER>_NATS_PASSWORD` (mode 0600,
    the folder 0700), made once and kept: the names deploy/make-secrets.sh writes."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    passwords = {}
    for user in USERS:
        path = folder / password_var(user)
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(32))
        passwords[user] = path.read_text().strip()
    return passwords


def credentials(folder: Path, user: str) -> dict[str, str]:
    """NATS_USER and NATS_PASSWORD for `user` from a password folder."""
    return {"NATS_USER": user, "NATS_PASSWORD": (folder / password_var(user)).read_text().strip()}


def server_config(passwords: dict[str, str]) -> str:
    """A nats-server config: the passwords as variables, then the table."""
    defs = "".join(f'{password_var(u)}: "{p}"\n' for u, p in passwords.items())
    return defs + render()


if __name__ == "__main__":
    print(render(), end="")
