"""A deterministic synthetic study for the benchmark: the shipped RP protocol at many sites.

    python -m bench.generate --participants 5000

Rows are written with bulk inserts, not through the per-participant services (enrolling
5,000 participants one by one would take the better part of an hour), but their shape is
the real one: visits and doses come from `patients.calendar.compute_calendar` on the active
protocol version, scores from the instruments, Treg values from `derive_treg`, AE deadlines
from the model's own clocks, and reminders from the real sweep. The audit triggers record
every insert, so the audit history is as large as the data.

The same seed and the same day give the same study; dates are relative to the day it is
built, so the pages show a study in progress (visits due this week, doses due today).
"""

import argparse
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

SEED = 13
PASSWORD = "bench-password-13"
#: Days between the first and the last baseline: the RP protocol lasts 12 weeks (day 85),
#: so about 40 % of enrolled participants have completed and the rest are in progress.
BASELINE_SPREAD = 150
#: Forms of a visit are entered this many days after it, so the last week's visits are
#: still waiting for their data (the benchmark's form POSTs enter them).
ENTRY_LAG_DAYS = 7
#: At each site, one enrolled participant in this many (the first, the 26th, ...) still has
#: their vital signs to enter at the visits done: every site's missing-forms list has work
#: in it, whatever the size of the study.
INCOMPLETE_EVERY = 25
#: The values of the forms the RP protocol defines as data, as the capture stores them
#: (flat keys, decimals as strings at their precision); a form the visit's definition does
#: not name is not entered.
PROTOCOL_FORMS = {
    "VITALS": {"WEIGHT": "65.0", "HEIGHT": "165.0", "SYSBP": 118, "DIABP": 76, "HR": 72},
    "CONMED": {},
    "MEDHIST": {"MH.1.MHTERM": "Hypertension", "MH.1.MHONGO": "Y"},
}
#: What the server computes for them (body-mass index; no concomitant glucocorticoid).
PROTOCOL_CALCULATED = {"VITALS": {"BMI": "23.9"}, "CONMED": {"PREDTOT": "0.00"}}
AE_TERMS = (
    "Injection site erythema",
    "Fatigue",
    "Headache",
    "Fever",
    "Upper respiratory tract infection",
    "Arthralgia",
    "Nausea",
    "Rash",
)


@dataclass
class BenchStudy:
    """What the measuring code needs to find its way in the generated study."""

    study: object
    version: object
    sites: list
    coordinators: list  # one per site, in site order
    investigator: object
    monitor: object
    study_admin: object
    counts: dict = field(default_factory=dict)


_STARTED = [time.monotonic()]


def _log(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(f"[{time.monotonic() - _STARTED[0]:6.1f} s] {message}\n")
        stdout.flush()


def generate(
    *,
    participants: int,
    sites: int = 20,
    seed: int = SEED,
    today: date | None = None,
    stdout=None,
) -> BenchStudy:
    """Build the study; returns handles on it. Runs in the caller's database."""
    from django.db import connection

    from audit.tracking import acting

    started = _STARTED[0] = time.monotonic()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = today or now.date()
    # No transaction around it all: PostgreSQL would queue every row's (deferred) foreign key
    # check until one commit at the end, which made 5,000 participants take ten times as
    # long as 1,500. Each bulk insert commits on its own; a failed run leaves a database
    # `bench.run` drops anyway.
    with acting(None, "Benchmark data (bench.generate)"):
        bench = _study_and_users(sites)
        _log(stdout, f"study, {sites} sites and users: {time.monotonic() - started:.1f} s")
        counts = _participants(bench, participants, rng, today=today, now=now, stdout=stdout)
        _log(stdout, f"clinical data: {time.monotonic() - started:.1f} s")
        counts["notifications"] = _reminders(now=now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bench.counts = counts
    _log(stdout, f"generated {counts} in {time.monotonic() - started:.1f} s (ANALYZE done)")
    return bench


def _study_and_users(n_sites: int) -> BenchStudy:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from demo.people import PROTOCOL_DIR
    from trials.models import Membership, Role, Site
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    name = "ld-il2-rp.yaml"
    spec = parse_protocol((PROTOCOL_DIR / name).read_text(encoding="utf-8"), source=name)
    version, _created = load_protocol(spec, activate=True)
    study = version.study
    # Sites are not versioned: added as rows, the shipped site first.
    existing = list(study.sites.order_by("pk"))
    zones = ("Asia/Shanghai", "Europe/Paris", "UTC", "America/New_York")
    for n in range(len(existing), n_sites):
        Site.objects.create(
            study=study, code=f"S{n + 1:02d}", name=f"Bench site {n + 1}", timezone=zones[n % 4]
        )
    site_rows = list(study.sites.order_by("pk"))[:n_sites]

    User = get_user_model()
    hashed = make_password(PASSWORD)  # hashed once: every bench user has the same password

    def user(username: str, role: str, site=None):
        account = User.objects.create(
            username=username, email=f"{username}@bench.invalid", password=hashed
        )
        Membership.objects.create(user=account, study=study, site=site, role=role)
        return account

    coordinators = [user(f"coord-{s.code.lower()}", Role.COORDINATOR, s) for s in site_rows]
    investigator = user("investigator", Role.INVESTIGATOR)
    user("investigator-2", Role.INVESTIGATOR)
    monitor = user("monitor", Role.MONITOR)
    study_admin = user("studyadmin", Role.STUDY_ADMIN)
    return BenchStudy(
        study=study,
        version=version,
        sites=site_rows,
        coordinators=coordinators,
        investigator=investigator,
        monitor=monitor,
        study_admin=study_admin,
    )


def load_bench() -> BenchStudy:
    """The handles on a study generated earlier (by another process) in this database."""
    from django.contrib.auth import get_user_model

    from trials.models import Study, VersionStatus

    User = get_user_model()
    study = Study.objects.get(code="LDIL2-RP")
    sites = list(study.sites.order_by("pk"))
    return BenchStudy(
        study=study,
        version=study.versions.get(status=VersionStatus.ACTIVE),
        sites=sites,
        coordinators=[User.objects.get(username=f"coord-{s.code.lower()}") for s in sites],
        investigator=User.objects.get(username="investigator"),
        monitor=User.objects.get(username="monitor"),
        study_admin=User.objects.get(username="studyadmin"),
    )


def _fate(i: int) -> str:
    """One participant in 20 fails screening, one is still in screening, one withdrew."""
    return {0: "screen_failed", 1: "screening", 2: "withdrawn"}.get(i % 20, "enrolled")


def _participants(bench: BenchStudy, n: int, rng, *, today: date, now: datetime, stdout):
    from assessments.completeness import mark_forms_complete
    from assessments.derivations import derive_treg
    from assessments.form_kinds import scheduled_forms
    from assessments.instruments import get as instrument
    from assessments.models import (
        DoseAdministration,
        FormRecord,
        InstrumentResponse,
        SteroidDose,
        TregPanel,
    )
    from patients.calendar import compute_calendar
    from patients.models import (
        Consent,
        DoseStatus,
        EligibilityAssessment,
        Participant,
        ParticipantStatus,
        PlannedDose,
        ScheduledVisit,
        VisitStatus,
    )
    from patients.services import dose_row, visit_row
    from trials.services import phase_specs, visit_spec

    version = bench.version
    phases = phase_specs(version)
    visit_specs = [visit_spec(v) for v in version.visits.order_by("order")]
    definitions = {v.code: v for v in version.visits.all()}
    answers_ok = {"I1": True, "I2": True, "I3": True, "I4": True, "E1": False}
    rpdai = instrument("RPDAI")
    arm = version.arms.get()  # RP is single-arm, open label
    batch = 2000

    # Participants ------------------------------------------------------------------------
    rows, plans, per_site = [], [], {}
    for i in range(n):
        site = bench.sites[i % len(bench.sites)]
        kind = _fate(i)
        # Spread evenly (7 and 150 are coprime), not at random: every size has participants
        # at every point of the schedule, so every page has something to show.
        days_ago = (i * 7) % BASELINE_SPREAD
        baseline = today - timedelta(days=days_ago)
        fields = {
            "study": bench.study,
            "site": site,
            "screening_number": f"RP-{i + 1:05d}",
            "year_of_birth": rng.randint(1950, 2000),
            "sex": rng.choice("FM"),
            "protocol_version": version,
        }
        end_date = None
        if kind == "screen_failed":
            fields.update(
                status=ParticipantStatus.SCREEN_FAILED,
                end_date=baseline,
                end_reason="Not eligible: E1",
            )
        elif kind == "screening":
            pass
        else:
            number = per_site[site.pk] = per_site.get(site.pk, 0) + 1
            status = ParticipantStatus.ENROLLED
            if kind == "withdrawn":
                status = ParticipantStatus.WITHDRAWN
                end_date = baseline + timedelta(days=days_ago // 2)
                fields["end_reason"] = "Moved away"
            elif days_ago > 84:
                status = ParticipantStatus.COMPLETED
                end_date = baseline + timedelta(days=84)
                fields["end_reason"] = "Completed the protocol"
            fields.update(
                status=status,
                subject_id=f"{site.code}-{number:03d}",
                arm=arm,
                baseline_date=baseline,
                end_date=end_date,
            )
        rows.append(Participant(**fields))
        plans.append((kind, baseline, end_date, fields.get("arm")))
    created = Participant.objects.bulk_create(rows, batch_size=batch)
    for p, site in zip(created, (r.site for r in rows), strict=True):
        p.site = site  # keep the instance the AE clocks read the time zone from
    _log(stdout, f"  {len(created)} participants")

    coordinator_of = {s.pk: c for s, c in zip(bench.sites, bench.coordinators, strict=True)}
    eligibility, consents = [], []
    for p, (kind, baseline, _end, _arm) in zip(created, plans, strict=True):
        assessed = baseline - timedelta(days=3)
        eligibility.append(
            EligibilityAssessment(
                participant=p,
                protocol_version=version,
                answers=answers_ok | ({"E1": True} if kind == "screen_failed" else {}),
                eligible=kind != "screen_failed",
                failed=["E1"] if kind == "screen_failed" else [],
                assessed_on=assessed,
            )
        )
        if kind != "screen_failed":
            consents.append(
                Consent(
                    participant=p,
                    protocol_version=version,
                    consent_date=assessed,
                    obtained_by=coordinator_of[p.site_id],
                )
            )
    EligibilityAssessment.objects.bulk_create(eligibility, batch_size=batch)
    Consent.objects.bulk_create(consents, batch_size=batch)

    # Calendars: the real calendar function, then today's state of each row ----------------
    enrolled = [
        (p, plan) for p, plan in zip(created, plans, strict=True) if p.baseline_date is not None
    ]
    visits, doses = [], []
    entry_cutoff = today - timedelta(days=ENTRY_LAG_DAYS)
    for p, (_, baseline, end_date, _) in enrolled:
        calendar = compute_calendar(
            phases=phases,
            visits=visit_specs,
            baseline=baseline,
            arm=p.arm.code if p.arm_id is not None else None,
        )
        for slot in calendar.visits:
            status, actual = VisitStatus.UPCOMING, None
            if end_date is not None and slot.target_date > end_date:
                status = VisitStatus.CANCELLED
            elif slot.target_date < entry_cutoff:
                status, actual = VisitStatus.DONE, slot.target_date
            visits.append(
                visit_row(p, version, definitions, slot, status=status, actual_date=actual)
            )
        for slot in calendar.doses:
            status = DoseStatus.PLANNED
            if end_date is not None and slot.date > end_date:
                status = DoseStatus.CANCELLED
            elif slot.date < today:
                status = DoseStatus.GIVEN if rng.random() < 0.95 else DoseStatus.NOT_GIVEN
            doses.append(dose_row(p, version, slot, status=status))
    ScheduledVisit.objects.bulk_create(visits, batch_size=batch)
    PlannedDose.objects.bulk_create(doses, batch_size=batch)
    _log(stdout, f"  {len(visits)} visits, {len(doses)} planned doses")

    # Doses given or not: one administration row each -------------------------------------
    administrations = []
    for dose in doses:
        if dose.status not in (DoseStatus.GIVEN, DoseStatus.NOT_GIVEN):
            continue
        given = dose.status == DoseStatus.GIVEN
        administrations.append(
            DoseAdministration(
                planned_dose=dose,
                participant=dose.participant,
                given=given,
                reason_not_given="" if given else "Participant unwell",
                administered_on=dose.date if given else None,
                actual_dose=dose.dose if given else None,
                unit=dose.unit,
                lot="BENCH-LOT-1" if given else "",
                injection_site=rng.choice(("abdomen_left", "abdomen_right")) if given else "",
                local_reaction="none" if given else "",
                entered_by=coordinator_of[dose.participant.site_id],
            )
        )
    DoseAdministration.objects.bulk_create(administrations, batch_size=batch)
    _log(stdout, f"  {len(administrations)} dose administrations")

    # Forms at the visits done: RPDAI, Treg panel, steroid dose, and the forms the protocol
    # defines (vital signs; medication and medical history at baseline), but for the
    # participants whose vital signs are behind (INCOMPLETE_EVERY).
    form_versions = {d.code: d for d in version.forms.all()}
    rounds = len(bench.sites) * INCOMPLETE_EVERY
    on_study = [p for p in created if p.baseline_date is not None]
    behind = {p.pk for k, p in enumerate(on_study) if k % rounds < len(bench.sites)}
    responses, panels, steroids, records = [], [], [], []
    baseline_treg, baseline_steroid = {}, {}
    for n_visit, visit in enumerate(v for v in visits if v.status == VisitStatus.DONE):
        p, user = visit.participant, coordinator_of[visit.participant.site_id]
        week = visit.study_day // 7
        # Items that can be present together (the demo's): RPDAI refuses contradictions.
        present = {code: rng.random() < 0.3 for code in ("AURIC", "NASAL", "CRP", "ARTHR")}
        answers = dict.fromkeys(rpdai.item_codes, False) | present
        score = rpdai.score(answers)
        responses.append(
            InstrumentResponse(
                participant=p,
                scheduled_visit=visit,
                instrument="RPDAI",
                answers=answers,
                total=score.total,
                band=score.band or "",
                alerts=list(score.alerts),
                details=score.details,
                entered_by=user,
            )
        )
        inputs = {
            "lymphocytes_per_ul": Decimal(rng.randint(900, 2500)),
            "cd4_per_ul": Decimal(rng.randint(400, 850)),
            "treg_pct_of_cd4": Decimal(4 + week // 2) + Decimal(n_visit % 10) / 10,
            "tcon_pct_of_cd4": Decimal(60),
        }
        derived = derive_treg(**inputs, baseline=baseline_treg.get(p.pk))
        baseline_treg.setdefault(p.pk, derived)
        panels.append(
            TregPanel(
                participant=p,
                scheduled_visit=visit,
                sample_date=visit.actual_date,
                lymphocytes_per_ul=inputs["lymphocytes_per_ul"],
                cd4_per_ul=inputs["cd4_per_ul"],
                treg_pct_of_cd4=inputs["treg_pct_of_cd4"],
                tcon_pct_of_cd4=inputs["tcon_pct_of_cd4"],
                derived_cd4_per_ul=derived.cd4_per_ul,
                treg_per_ul=derived.treg_per_ul,
                tcon_per_ul=derived.tcon_per_ul,
                treg_tcon_ratio=derived.treg_tcon_ratio,
                treg_pct_change=derived.treg_pct_change,
                treg_pct_change_pct=derived.treg_pct_change_pct,
                treg_per_ul_change=derived.treg_per_ul_change,
                treg_per_ul_change_pct=derived.treg_per_ul_change_pct,
                entered_by=user,
            )
        )
        mg = Decimal(max(20 - 5 * (week // 4), 5))
        first = baseline_steroid.setdefault(p.pk, mg)
        change = ((mg - first) / first * 100).quantize(Decimal("0.1"))
        steroids.append(
            SteroidDose(
                participant=p,
                scheduled_visit=visit,
                date=visit.actual_date,
                drug="prednisone",
                mg_per_day=mg,
                weight_kg=Decimal(65),
                prednisone_eq_mg=mg,
                # The bench's participants take no concomitant glucocorticoid (no CONMED).
                other_glucocorticoids_eq_mg=Decimal(0),
                total_prednisone_eq_mg=mg,
                mg_per_kg_per_day=(mg / 65).quantize(Decimal("0.001")),
                baseline_prednisone_eq_mg=first,
                pct_change_from_baseline=change,
                steroid_sparing=change <= -25,
                entered_by=user,
            )
        )
        defined = {c: PROTOCOL_FORMS[c] for c in visit.definition.forms if c in PROTOCOL_FORMS}
        if p.pk in behind:
            defined.pop("VITALS", None)
        records += [
            FormRecord(
                participant=p,
                scheduled_visit=visit,
                form_code=code,
                definition=form_versions[code],
                values=values,
                calculated=PROTOCOL_CALCULATED.get(code, {}),
                entered_by=user,
            )
            for code, values in defined.items()
        ]
    InstrumentResponse.objects.bulk_create(responses, batch_size=batch)
    TregPanel.objects.bulk_create(panels, batch_size=batch)
    SteroidDose.objects.bulk_create(steroids, batch_size=batch)
    FormRecord.objects.bulk_create(records, batch_size=batch)
    # What the capture of each visit's last form does, for every visit at once.
    complete = mark_forms_complete(
        ScheduledVisit.objects.filter(participant__study=bench.study),
        scheduled_forms([bench.study.pk]),
    )
    _log(
        stdout,
        f"  {len(responses)} RPDAI, {len(panels)} Treg panels, {len(steroids)} steroids, "
        f"{len(records)} protocol-defined forms; {complete} visits complete",
    )

    adverse_events = _adverse_events(bench, enrolled, rng, today=today, now=now)
    return {
        "participants": len(created),
        "enrolled": len(enrolled),
        "visits": len(visits),
        "doses": len(doses),
        "administrations": len(administrations),
        "forms": len(responses) + len(panels) + len(steroids) + len(records),
        "adverse_events": adverse_events,
    }


def _adverse_events(bench: BenchStudy, enrolled, rng, *, today: date, now: datetime) -> int:
    """About 0.4 per participant, one in ten serious; most not yet reviewed, the others
    signed as reviewed."""
    from safety.models import AdverseEvent

    candidates = [(p, plan) for p, plan in enrolled if (today - p.baseline_date).days >= 2]
    rows = []
    for _ in range(round(0.4 * len(enrolled))):
        p, (_, baseline, end_date, _) = candidates[rng.randrange(len(candidates))]
        last = min(end_date or today, today) - timedelta(days=1)
        onset = baseline + timedelta(days=rng.randint(0, max((last - baseline).days, 0)))
        awareness = datetime.combine(onset, datetime.min.time(), UTC) + timedelta(hours=12)
        awareness = min(awareness, now - timedelta(minutes=1))
        serious = rng.random() < 0.1
        ended = rng.random() < 0.5 and onset + timedelta(days=5) <= today
        event = AdverseEvent(
            participant=p,
            term=rng.choice(AE_TERMS),
            onset_date=onset,
            end_date=onset + timedelta(days=5) if ended else None,
            ongoing=not ended,
            grade=3 if serious else rng.choice((1, 1, 2)),
            serious=serious,
            hospitalisation=serious,
            relationship=rng.choice(("possible", "unlikely", "probable")),
            expectedness=rng.choice(("expected", "expected", "unexpected")),
            action_taken="DOSE NOT CHANGED",
            outcome="RECOVERED/RESOLVED" if ended else "RECOVERING/RESOLVING",
            awareness_at=awareness,
            sponsor_reported_at=awareness + timedelta(hours=6)
            if serious and rng.random() < 0.5
            else None,
            awaiting_review_since=awareness if rng.random() < 0.6 else None,
            created_by=bench.coordinators[bench.sites.index(p.site)],
        )
        event.refresh_clocks()  # what save() does; bulk_create does not call it
        rows.append(event)
    AdverseEvent.objects.bulk_create(rows, batch_size=2000)
    _review_signatures(bench, [e for e in rows if e.awaiting_review_since is None], now=now)
    return len(rows)


def _review_signatures(bench: BenchStudy, events: list, *, now: datetime) -> None:
    """The events not awaiting review were reviewed: each has the investigator's standing
    "reviewed" signature over its values and its trail's newest event, as
    `safety.services.sign_adverse_event` leaves it."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Max

    from safety.models import AdverseEvent
    from signatures.models import Meaning, Signature
    from signatures.services import fingerprint

    investigator = bench.investigator
    content_type = ContentType.objects.get_for_model(events[0]) if events else None
    trail = AdverseEvent.pgh_event_models["update"].objects.filter(pgh_obj__in=events)
    newest = dict(trail.values("pgh_obj").annotate(n=Max("pgh_id")).values_list("pgh_obj", "n"))
    Signature.objects.bulk_create(
        [
            Signature(
                content_type=content_type,
                object_id=str(event.pk),
                meaning=Meaning.REVIEWED,
                signer=investigator,
                signer_name=investigator.get_full_name() or investigator.get_username(),
                signed_at=now - timedelta(hours=1),
                fingerprint=fingerprint(event),
                record_event_id=newest[event.pk],
            )
            for event in events
        ],
        batch_size=2000,
    )


def _reminders(*, now: datetime) -> int:
    """Yesterday's reminders, already sent and half of them read; today's are left to the
    benchmark's timed sweep."""
    from notifications.models import Notification, Status
    from notifications.services import sweep

    sweep(now=now - timedelta(days=1), dispatch=False)
    rows = Notification.objects.all()
    rows.update(status=Status.SENT, sent_at=now - timedelta(days=1))
    half = list(rows.order_by("pk").values_list("pk", flat=True)[::2])
    Notification.objects.filter(pk__in=half).update(read_at=now - timedelta(hours=20))
    return rows.count()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import sys

    import django

    django.setup()
    generate(participants=args.participants, sites=args.sites, seed=args.seed, stdout=sys.stdout)


if __name__ == "__main__":
    main()
