import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import Membership, Profile
from accounts.scope import SCREEN, scope_for
from screening import audit, synthetic
from screening.assessment import assess, site_zone
from screening.audit import canonical_json
from screening.common.bulk import rows_insert
from screening.criteria import criteria_load
from screening.decisions import services
from screening.domain.inputs import CONFIRM_KEY, INPUTS
from screening.ledger import keys
from screening.ledger.content import entry_mac
from screening.ledger.models import LedgerEntry, LedgerHead
from screening.ledger.receivers import live_specs

# The chain head's lock, as every ledger append takes it.
from screening.ledger.services import _locked_head
from screening.models import CriterionOutcome, EligibilityDecision, Signature
from screening.reports.summary import FunnelDeltas
from trials.models import Trial

CREDENTIALS_FILE = ".demo-credentials"
# (user name, first name, last name, Chinese name, role, staff, superuser): the
# full name is shown on English pages and signed with, the Chinese one on Chinese
# pages.
DEMO_USERS = [
    ("demo-admin", "Wei", "Zhang", "张伟", None, True, True),
    ("demo-coordinator", "Fang", "Wang", "王芳", roles.COORDINATOR, False, False),
    ("demo-investigator", "Jianguo", "Li", "李建国", roles.INVESTIGATOR, False, False),
    ("demo-monitor", "Jing", "Chen", "陈静", roles.MONITOR, False, False),
    ("demo-trialadmin", "Lei", "Zhao", "赵磊", roles.TRIAL_ADMIN, True, False),
]
BATCH = 500


def demo_password() -> tuple[str, str]:
    """The demo password and where it comes from (environment or local file)."""
    if os.environ.get("DEMO_PASSWORD"):
        return os.environ["DEMO_PASSWORD"], "the DEMO_PASSWORD environment variable"
    path = Path(settings.BASE_DIR) / CREDENTIALS_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), f"the file {path}"
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return password, f"the file {path} (generated now)"


TYPICAL = [key for key, item in INPUTS.items() if item.typical]


def bulk_record(trial, batch, screeners, criteria) -> int:
    """Record a batch of new screenings as ``decision_record`` would, inserted at once.

    Each record is evaluated and built by the service's own ``_unlinked`` before
    the trial's lock; under it the batch is linked to the chain (sequence,
    previous hash, content hash as ``_append`` does), inserted with
    COPY (``rows_insert``), sealed in the ledger in one go (what ``ledger_seal`` would
    seal of each, in the same order) and counted in the funnel's summary.
    Demo screening numbers are new, so no lab values wait for them.
    """
    if trial.status == Trial.Status.CLOSED:
        raise CommandError("the trial is closed to recruitment")
    now = timezone.now()
    today = timezone.localdate(now, site_zone())
    sites = {}
    for user in screeners:
        site = services.screening_site_for(user=user, trial=trial)
        if not scope_for(user).can(SCREEN, trial.pk, site.pk if site else None):
            raise CommandError(f"{user.username} may not screen in {trial.slug}")
        sites[user.pk] = site
    built = []
    snapshot = services.stored_snapshot(trial=trial, criteria=criteria)
    for index, data in batch:
        user = screeners[index % len(screeners)]
        data = {**data, CONFIRM_KEY: TYPICAL}
        assessment = assess(
            data=data, criteria=criteria, today=today, for_record=True, now=now
        )
        built.append(
            services._unlinked(
                trial=trial,
                data=data,
                user=user,
                assessment=assessment,
                supersedes=None,
                supersede_reason="",
                now=now,
                site=sites[user.pk],
                snapshot=snapshot,
            )
        )
    with transaction.atomic():
        Trial.objects.select_for_update().filter(pk=trial.pk).values("pk").first()
        last = (
            EligibilityDecision.objects.system()
            .filter(trial=trial)
            .order_by("-sequence")
            .values("sequence", "content_hash")
            .first()
        )
        sequence = last["sequence"] if last else 0
        previous = last["content_hash"] if last else audit.GENESIS_HASH
        for decision, outcomes in built:
            sequence += 1
            decision.sequence, decision.previous_hash = sequence, previous
            decision.content_hash = audit.sha256(
                audit.decision_content(decision, outcomes)
            )
            previous = decision.content_hash
        decisions = rows_insert(EligibilityDecision, [d for d, _ in built], ids=True)
        for decision, outcomes in built:
            for outcome in outcomes:
                outcome.decision = decision
        rows_insert(CriterionOutcome, [o for _, outcomes in built for o in outcomes])
        _seal_batch(decisions)
        deltas = FunnelDeltas(trial.pk)
        for decision, outcomes in built:
            deltas.candidate(
                site_id=decision.site_id,
                screening_date=decision.screening_date,
                outcome=decision.outcome,
                blocking=[(o.code, o.kind, o.position) for o in outcomes if o.blocking],
            )
        deltas.apply()
    return len(built)


def _seal_batch(decisions) -> None:
    """The ledger entries ``ledger_seal`` would append for each decision, in order,
    under one lock of the chain's head, inserted together."""
    spec = live_specs()[EligibilityDecision]
    chain = spec.chain_of(decisions[0])
    key_id, key = keys.signing_key()
    head = _locked_head(LedgerHead, chain)
    sequence, mac = head.sequence, head.mac
    at = timezone.now()
    entries = []
    for decision in decisions:
        sequence += 1
        entry = LedgerEntry(
            chain=chain,
            sequence=sequence,
            kind=spec.kind,
            object_table=spec.table,
            object_pk=decision.pk,
            # As the database gives it back, so that the HMAC verifies.
            content=json.loads(canonical_json(spec.content(decision))),
            key_id=key_id,
            previous_mac=mac,
            recorded_at=at,
        )
        entry.mac = mac = entry_mac(
            key,
            chain=entry.chain,
            sequence=entry.sequence,
            kind=entry.kind,
            object_table=entry.object_table,
            object_pk=entry.object_pk,
            content=entry.content,
            previous_mac=entry.previous_mac,
            key_id=entry.key_id,
            recorded_at=entry.recorded_at,
        )
        entries.append(entry)
    rows_insert(LedgerEntry, entries)
    LedgerHead.objects.filter(pk=head.pk).update(sequence=sequence, mac=mac)


class Command(BaseCommand):
    help = (
        "Create the demo users if missing, and N realistic screenings recorded "
        "through the same service as the form."
    )

    def add_arguments(self, parser):
        parser.add_argument("--screenings", type=int, default=0)
        parser.add_argument("--trial", default="nct06904755")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="add screenings only when the trial has none",
        )
        parser.add_argument("--seed", type=int, default=20251124)
        parser.add_argument(
            "--bulk",
            action="store_true",
            help="insert each batch of screenings at once (for benchmarks): the "
            "same evaluation, hashes, chain and ledger entries as one at a time",
        )
        parser.add_argument("--batch", type=int, default=BATCH)

    def handle(self, *args, **options):
        trial = Trial.objects.filter(slug=options["trial"]).first()
        if trial is None:
            raise CommandError("load the trial first: python manage.py load_trial")
        users = self._users()
        count = options["screenings"]
        if count < 0:
            raise CommandError("--screenings must be 0 or more")
        existing = EligibilityDecision.objects.system().filter(trial=trial).count()
        if options["if_empty"] and existing:
            self.stdout.write(f"{existing} screenings already recorded; none added.")
            return
        if count:
            created = self._screenings(
                trial,
                users,
                count,
                options["seed"],
                bulk=options["bulk"],
                size=options["batch"],
            )
            self.stdout.write(f"Recorded {created} demo screenings.")

    def _users(self):
        User = get_user_model()
        password, source = demo_password()
        # Every loaded trial, so the demo users can open each one's pages.
        trials = list(Trial.objects.all())
        users = {}
        for username, first, last, chinese, role, staff, superuser in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    is_staff=staff,
                    is_superuser=superuser,
                )
                user.set_password(password)
                user.save()
                if role:
                    user.groups.add(Group.objects.get(name=role))
                self.stdout.write(f"Created demo user {username}")
            else:
                # Names of an earlier demo set-up are brought up to date; the
                # password and roles are left as they are.
                if (user.first_name, user.last_name) != (first, last):
                    user.first_name, user.last_name = first, last
                    user.save(update_fields=["first_name", "last_name"])
                self.stdout.write(f"Demo user {username} exists (password unchanged)")
            Profile.objects.update_or_create(
                user=user, defaults={"display_name_zh": chinese}
            )
            if role:
                # The role is held in every trial, for all its sites.
                for each in trials:
                    Membership.objects.get_or_create(
                        user=user, trial=each, site=None, role=role
                    )
            users[username] = user
        self.stdout.write(f"Demo users' password comes from {source}.")
        self._password = password
        return users

    def _screenings(self, trial, users, count, seed, *, bulk, size) -> int:
        criteria = criteria_load(trial=trial)
        screeners = [users["demo-coordinator"], users["demo-investigator"]]
        first = (
            EligibilityDecision.objects.system()
            .filter(trial=trial, supersedes__isnull=True)
            .count()
            + 1
        )
        start = timezone.localdate()
        record = bulk_record if bulk else self._record
        created = 0
        batch = []
        for index, data in enumerate(
            synthetic.candidates(count, seed=seed, start=start, first=first)
        ):
            batch.append((index, data))
            if len(batch) == size:
                created += record(trial, batch, screeners, criteria)
                batch = []
                self.stdout.write(f"  {created}/{count}")
        if batch:
            created += record(trial, batch, screeners, criteria)
        self._sign_some(trial, users["demo-investigator"])
        return created

    @transaction.atomic
    def _record(self, trial, batch, screeners, criteria) -> int:
        for index, data in batch:
            services.decision_record(
                trial=trial,
                # Synthetic values outside a typical range count as checked.
                data={**data, CONFIRM_KEY: TYPICAL},
                user=screeners[index % len(screeners)],
                criteria=criteria,
            )
        return len(batch)

    def _sign_some(self, trial, investigator, limit=5):
        # Nobody signs what they recorded, nor a superseded record.
        unsigned = (
            EligibilityDecision.objects.system()
            .filter(trial=trial, signature__isnull=True, superseded_by__isnull=True)
            .exclude(recorded_by=investigator)
            .order_by("sequence")[:limit]
        )
        for decision in unsigned:
            services.signature_record(
                decision=decision,
                signer=investigator,
                password=self._password,
                meaning=Signature.Meaning.CONFIRM,
            )
