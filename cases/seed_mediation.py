"""Seeded mediation files (调解卷宗) for seed_city: every dispute case gets its file,
in every state the portal knows (not yet accepted, in progress with a session
scheduled, agreed, partly agreed, failed and referred, withdrawn), numbered by
its committee's yearly sequence, with parties and sessions.

The files, their parties and their sessions are planned with the cases (pure
Python, in cases/seed.py's chunks, so in its worker processes at city scale).
A party's columns come from the same code as a typed-in party's
(cases/parties.py: checked, indexed and masked); its phone and ID number are
encrypted as the model's fields encrypt them, by `seal_parties` for COPY or by
the fields themselves through the ORM (`write_parties`). The mediators, which
the demo reads from its posts, are written afterwards (`write_mediators`).
"""

import datetime
from datetime import timedelta

from django.utils import timezone
from stdnum.cn import ric

MEDIATION_FIELDS = (
    "case_id", "outcome", "agreement_text", "concluded_at", "opened_at", "dispute_type", "committee_id", "year",
    "serial", "claims", "source", "source_body", "source_ref", "reply_due_on", "performance_deadline",
    "consent_recorded", "referral", "outcome_note", "replied_at", "reply_text", "follow_up_due_on", "followed_up_at",
    "performance", "follow_up_note", "confirmation_court", "confirmation_receipt", "confirmation_applied_on",
    "referral_body", "referral_receipt", "referral_received_on", "referral_answer",
)
PARTY_FIELDS = ("mediation_id", "role", "name", "id_number", "id_index", "id_masked", "phone", "phone_index",
                "phone_masked", "address", "added_at", "removal_reason")
SESSION_FIELDS = ("mediation_id", "state", "held_at", "location", "attendees", "notes", "recorded_by_id", "recorded_at")
# The parties' columns that hold ciphertext in the table.
SEALED_AT = (PARTY_FIELDS.index("id_number"), PARTY_FIELDS.index("phone"))
PARTY_ROLES = ("applicant", "respondent", "third_party")
DISPUTE_BY_CATEGORY = {"E0501": "neighbour", "E0502": "family", "E0503": "property", "E0504": "labour"}
CLAIMS = {
    "neighbour": "请求对方修复漏水管道，赔偿装修损失。",
    "family": "请求协调赡养费用及老人居住安排。",
    "property": "请求物业公司解决电梯故障并减免相应物业费。",
    "labour": "请求支付拖欠工资。",
    "other": "请求调解双方纠纷。",
}
TERMS = {
    "neighbour": "一、被申请人于履行期限前修复漏水管道；二、被申请人赔偿申请人装修损失人民币{amount}元；三、双方今后互谅互让，和睦相处。",
    "family": "一、子女每月各支付赡养费人民币{amount}元；二、老人随长子居住，其他子女轮流照料。",
    "property": "一、物业公司于履行期限前修复电梯；二、减免申请人物业费人民币{amount}元。",
    "labour": "一、被申请人于履行期限前支付申请人工资人民币{amount}元；二、双方劳动关系就此了结。",
    "other": "一、被申请人向申请人支付人民币{amount}元；二、双方就此纠纷再无其他争议。",
}
SOURCES = (("direct", 85), ("court", 7), ("police", 5), ("petition", 3))
SOURCE_BODY = {"court": "区人民法院", "police": "辖区派出所", "petition": "区信访局"}
DONE_OUTCOMES = (("agreed", 78), ("partial", 6), ("failed", 10), ("withdrawn", 6))
REFERRALS = ("litigation", "arbitration", "administrative")
# Who receives a failed dispute referred on, and the receipt's prefix (立案回执, 仲裁受理通知, 收件回执).
REFERRAL_BODY = {"litigation": ("区人民法院", "LA", "已立案受理。"),
                 "arbitration": ("区劳动人事争议仲裁委员会", "ZC", "已受理仲裁申请。"),
                 "administrative": ("区人民政府", "XZ", "已收件，依法处理中。")}
# The demo deals its concluded files' outcomes by case id, so each state is there to be seen.
DEMO_SOURCES = ("direct", "court", "direct", "police", "direct", "petition", "direct")
DEMO_OUTCOMES = ("agreed", "failed", "agreed", "partial", "agreed", "withdrawn", "agreed")


def _local_date(moment):
    return timezone.localtime(moment).date()


def plan_file(rng, *, pk, code, row, path, created, now, demo=False):
    """The Mediation columns of a seeded dispute (without its number) and what to add to it later."""
    dispute = DISPUTE_BY_CATEGORY.get(code, "other")
    done = row["status"] in ("closed", "resolved", "verified")
    opened_at = row["accepted_at"]
    fields = dict(case_id=pk, outcome="pending", agreement_text="", concluded_at=None, opened_at=None,
                  dispute_type="", committee_id=None, year=None, serial=None, claims="", source="direct",
                  source_body="", source_ref="", reply_due_on=None, performance_deadline=None,
                  consent_recorded=False, referral="", outcome_note="", replied_at=None, reply_text="",
                  follow_up_due_on=None, followed_up_at=None, performance="", follow_up_note="",
                  confirmation_court="", confirmation_receipt="", confirmation_applied_on=None,
                  referral_body="", referral_receipt="", referral_received_on=None, referral_answer="")
    details = {"case_id": pk, "handler": row["assignee_id"], "created": created, "sessions": [],
               "parties": rng.choice((2, 2, 2, 3))}
    if opened_at is None:
        return fields, details
    source = rng.choices(*zip(*SOURCES))[0]
    if demo:
        # The demo's few dozen files show every way a dispute arrives, whatever the random stream.
        source = DEMO_SOURCES[pk % len(DEMO_SOURCES)]
    fields.update(opened_at=opened_at, dispute_type=dispute, claims=CLAIMS[dispute], source=source,
                  committee_id=path.get("community_id") or path.get("street_id"))
    if source != "direct":
        fields.update(source_body=SOURCE_BODY[source], source_ref=f"{source[:3].upper()}-{pk:06d}",
                      reply_due_on=_local_date(opened_at) + timedelta(days=30))
    if done:
        concluded = row["resolved_at"]
        first = opened_at + (concluded - opened_at) * rng.uniform(0.2, 0.6)
        details["sessions"].append(("held", first, "双方到场陈述各自意见，调解员释法明理。"))
        if demo:
            outcome = DEMO_OUTCOMES[pk % len(DEMO_OUTCOMES)]
        else:
            outcome = rng.choices(*zip(*DONE_OUTCOMES))[0]
        if outcome in ("agreed", "partial"):
            details["sessions"].append(("held", concluded - timedelta(minutes=30), "经耐心调解，双方达成一致。"))
            fields.update(agreement_text=TERMS[dispute].format(amount=rng.choice((300, 500, 800, 1200, 2000))),
                          performance_deadline=_local_date(concluded) + timedelta(days=30), consent_recorded=True)
        elif outcome == "failed":
            # The demo refers every other failure to the court, so a court's receipt is there to be seen.
            referral = "litigation" if demo and pk % 2 else rng.choice(REFERRALS)
            fields.update(referral=referral, outcome_note="双方分歧较大，未能达成协议，已告知其他解决途径。")
            _referral_receipt(rng, fields, pk=pk, referral=referral, concluded=concluded, now=now)
        else:
            fields["outcome_note"] = "申请人撤回调解申请。"
        fields.update(outcome=outcome, concluded_at=concluded)
        if outcome in ("agreed", "partial"):
            _follow_up(rng, fields, pk=pk, concluded=concluded, now=now, demo=demo)
        if source != "direct" and concluded + timedelta(days=3) < now:
            fields.update(replied_at=concluded + timedelta(days=rng.uniform(1, 3)),
                          reply_text="经人民调解委员会调解，" + ("双方达成调解协议。" if outcome in ("agreed", "partial")
                                                               else "未能达成协议，已告知当事人其他解决途径。"))
    elif opened_at < now - timedelta(hours=2):
        details["sessions"].append(("held", opened_at + (now - opened_at) * 0.5, "初次调解，双方陈述意见，约定再次调解。"))
        if demo or rng.random() < 0.5:
            # The next session: later today or in the coming days (the mediators' day list; the
            # demo's few open files always have one, so that list is never empty there).
            at = timezone.localtime(now).replace(hour=rng.choice((14, 15, 16)), minute=0, second=0, microsecond=0)
            at += timedelta(days=rng.choice((0, 0, 1, 2)))
            details["sessions"].append(("scheduled", at if at > now else at + timedelta(days=1), ""))
    return fields, details


def _referral_receipt(rng, fields, *, pk, referral, concluded, now):
    """The receiving body's receipt, a few days after the failure; the latest failures still wait for it."""
    received = _local_date(concluded) + timedelta(days=rng.randrange(1, 6))
    if received > _local_date(now):
        return
    body, prefix, answer = REFERRAL_BODY[referral]
    fields.update(referral_body=body, referral_receipt=f"{prefix}-{pk:06d}", referral_received_on=received,
                  referral_answer=answer)


def _follow_up(rng, fields, *, pk, concluded, now, demo):
    """回访 about 20 working days (four weeks) on; a few agreements were not kept and went to court."""
    due = _local_date(concluded) + timedelta(days=28)
    fields["follow_up_due_on"] = due
    if due > _local_date(now) or (demo and pk % 5 == 0):
        return  # not yet due, or (in the demo) waiting on the mediators' list
    at = timezone.localtime(concluded) + timedelta(days=28 + rng.uniform(0, 5))
    if at > now:
        return
    kept = rng.random() < (0.75 if demo else 0.93)
    fields.update(followed_up_at=at, performance="performed" if kept else rng.choice(("partly", "not_performed")),
                  follow_up_note="双方均表示协议已履行完毕。" if kept else "被申请人尚未按协议履行。")
    if not kept:
        fields.update(confirmation_court="区人民法院", confirmation_receipt=f"SQ-{pk:06d}",
                      confirmation_applied_on=_local_date(at))


def number(fields, counters):
    """Give an opened file its committee's next number in the year of its opening."""
    if fields["opened_at"] is None:
        return tuple(fields[f] for f in MEDIATION_FIELDS)
    year = _local_date(fields["opened_at"]).year
    key = (fields["committee_id"], year)
    counters[key] = counters.get(key, 0) + 1
    fields.update(year=year, serial=counters[key])
    return tuple(fields[f] for f in MEDIATION_FIELDS)


def _id_number(rng, birth):
    body = f"510703{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def plan_details(rng, details, *, person):
    """Party and session rows of one planned file: parties with their ID numbers and phones in the clear."""
    from .parties import party_values

    parties = []
    for index in range(details["parties"]):
        name, phone = person(rng)
        birth = datetime.date(rng.randrange(1950, 2000), rng.randrange(1, 13), rng.randrange(1, 28))
        values = party_values(name=name, role=PARTY_ROLES[index], phone=phone if rng.random() < 0.9 else "",
                              id_number=_id_number(rng, birth) if rng.random() < 0.7 else "")
        values.update(mediation_id=details["case_id"], added_at=details["created"], removal_reason="")
        parties.append(tuple(values[f] for f in PARTY_FIELDS))
    sessions = [
        (details["case_id"], state, at, "社区人民调解室", "双方当事人" if state == "held" else "", notes,
         details["handler"], at)
        for state, at, notes in (details["sessions"] if details["handler"] else ())
    ]
    return parties, sessions


def seal_parties(rows):
    """Party rows with the ID number and phone encrypted as the model's fields store them (for COPY)."""
    from .models import MediationParty

    ciphers = [MediationParty._meta.get_field(PARTY_FIELDS[at]).f for at in SEALED_AT]
    sealed = []
    for row in rows:
        row = list(row)
        for at, cipher in zip(SEALED_AT, ciphers):
            if row[at]:
                row[at] = cipher.encrypt(row[at].encode()).decode()
        sealed.append(row)
    return sealed


def write_parties(rows):
    """Party rows in the clear through the ORM, whose fields encrypt them (planned in-process)."""
    from .models import MediationParty

    MediationParty.objects.bulk_create([MediationParty(**dict(zip(PARTY_FIELDS, row))) for row in rows],
                                       batch_size=2000)


def write_mediators(plans, *, extra_mediators=None):
    """Each file's handler, and the demo's extra mediators, as the file's mediators."""
    from .models import Mediation

    extra_mediators = extra_mediators or {}
    through = Mediation.mediators.through
    rows = []
    for plan in plans:
        people = {plan["handler"], *extra_mediators.get(plan["case_id"], ())} - {None}
        rows += [through(mediation_id=plan["case_id"], user_id=u) for u in people]
    through.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)


def write_counters(counters):
    """Live numbering continues after the seeded files of each committee and year."""
    from .models import MediationNumberCounter

    # seed_city fills an empty database: no file was numbered before these.
    MediationNumberCounter.objects.bulk_create(
        [MediationNumberCounter(committee_id=c, year=y, last=n) for (c, y), n in counters.items()], batch_size=5000)
