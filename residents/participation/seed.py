"""A year of resident participation for `manage.py seed_city` (the app seeder hook).

Per community, at about the rates of DOMAIN.md (Lianhu: 153 meetings, 231
proposals and 132 solved in a year across some 26 communities, so about six
meetings and nine proposals a community; 3–5 livelihood projects a year):

- past deliberation meetings (议事会 / 院坝会 / 五方联席会) with one or two
  proposals each, participants by group, minutes, the vote and closed minutes;
  one upcoming meeting with a proposal on its agenda;
- proposals in every state: collecting support (supports from living residents
  of the proposal's place), in deliberation, adopted, not adopted, withdrawn,
  and one made from a grid's recurring cases where the cases seeder left a
  cluster (the newest 90 days, three or more of one category in one grid);
- one 四议两公开 track in each stage, the one in publication and the finished
  one each with an answered objection;
- 3–5 projects in different stages, the completed one made from an adopted
  proposal, with progress updates and residents' evaluations.

Every row is written as the services would write it (same fields, same
timeline events with the same data, deadlines from the working calendar, vote
counts that decide as a majority of the votes cast, publication at least seven
days, results after it), in bulk with explicit ids (grid.seeding.write_rows:
COPY on PostgreSQL), inside grid.seeding.trusted_bulk_load. Only inserts: the
append-only tables (timeline, progress updates) are never updated.
Seeding twice is harmless: with proposals already there, nothing is seeded.
"""

from dataclasses import dataclass, field
from datetime import timedelta

COMMUNITIES_PER_CHUNK = 200
RESIDENTS_PER_COMMUNITY = 200
PAST_MEETINGS = 4
TRACK_STAGES = ("opened", "proposed", "discussed", "reviewed", "decided", "published", "done")
TRACK_STEPS = ("propose", "discuss", "review", "decide")
EXTRA_PROJECT_STATUSES = ("applied", "reviewed", "approved", "rejected")

TOPICS = (
    ("老旧楼栋加装电梯", "楼内老人多，上下楼困难，希望加装电梯并商议费用分摊。"),
    ("小区增设电动车充电桩", "飞线充电隐患大，希望在空地集中设置充电桩。"),
    ("楼道照明更换声控灯", "楼道灯损坏多时，夜间出行不便。"),
    ("规范小区停车秩序", "车位紧张，消防通道常被占用，希望划线管理。"),
    ("增设垃圾分类投放亭", "垃圾桶露天摆放，气味大，希望建设分类投放亭。"),
    ("修补小区主干道路面", "路面坑洼，雨天积水，老人容易摔倒。"),
    ("增加健身器材", "现有器材老化，希望更新并增加适合老人的器材。"),
    ("开办社区老年食堂", "独居老人吃饭难，希望开办助餐点。"),
    ("整治违章搭建", "部分一楼住户私搭乱建，影响通行和采光。"),
    ("文明养犬管理", "遛狗不牵绳、粪便不清理，希望制定公约。"),
    ("绿化带改造", "绿化带荒废，希望改造成小花园。"),
    ("建设儿童游乐场地", "孩子没有活动场地，希望利用闲置空地。"),
    ("设置快递柜", "快递乱堆放易丢失，希望设置智能快递柜。"),
    ("屋顶防水维修", "顶楼住户反映屋顶漏水，希望用维修资金修缮。"),
    ("广场舞噪音协调", "晚间音响声音过大，希望商定时间和音量。"),
    ("雨污分流改造", "下水道经常堵塞反味，希望实施雨污分流。"),
)
PROJECTS = (
    ("屋面防水改造", 180_000), ("小区道路修补", 120_000), ("增设休闲座椅和雨棚", 30_000),
    ("楼道扶手安装", 15_000), ("电动车充电棚建设", 60_000), ("健身步道建设", 90_000),
    ("社区文化墙绘制", 20_000), ("背街小巷路灯安装", 45_000),
)
MEETING_KINDS = (("council", "居民议事会"), ("courtyard", "院坝会"), ("five_party", "五方联席会"))
PARTICIPANTS = ("居民代表{a}人、楼栋长{b}人、物业服务企业2人、业委会3人、社区两委成员3人、网格员1人",
                "居民代表{a}人、党员代表{b}人、社区民警1人、社区两委成员2人")
TRACK_NOTES = {
    "propose": "党支部会议研究，提出初步方案。",
    "discuss": "社区两委联席会议商议，完善方案。",
    "review": "党员大会审议通过方案。",
    "decide": "居民代表会议表决。",
}
OBJECTIONS = (("施工期间请合理安排时间，避免影响休息。", "已要求施工方每日8:00—18:00施工，午间停工。"),
              ("费用分摊比例希望再公示明细。", "分摊明细已在公开栏张贴，并可到社区查阅。"))
PROGRESS_NOTES = ("材料进场，开始施工。", "主体工程完成过半。", "主体完工，进行收尾。")
EVALUATION_COMMENTS = ("", "", "施工质量好，方便了大家。", "希望以后多办这样的实事。", "进度有点慢，总体满意。")


@dataclass
class Rows:
    """Rows per model name (dicts keyed by field) and the next id per model name."""

    ids: dict
    tables: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    def add(self, name, **row):
        row.setdefault("id", self.ids[name])
        self.ids[name] = max(self.ids[name], row["id"] + 1)
        self.tables.setdefault(name, []).append(row)
        self.counts[name] = self.counts.get(name, 0) + 1
        return row


@dataclass
class Place:
    """A community being seeded: its path, its grids, its living adults by grid, its staff."""

    id: int
    name: str
    street_id: int
    district_id: int
    index: int
    grids: list
    grid_names: dict
    residents: dict  # grid id → [resident id]
    staff: int
    cluster: tuple | None  # (grid id, category id, category code, category name, case numbers)

    def path(self, grid_id=None):
        return {"district_id": self.district_id, "street_id": self.street_id, "community_id": self.id,
                "grid_id": grid_id}

    def people(self, grid_id=None):
        if grid_id is not None:
            return self.residents.get(grid_id, [])
        return [r for grid in self.grids for r in self.residents.get(grid, [])]


class Planner:
    """Writes one community's year, event by event, as the services would."""

    def __init__(self, *, rows, rng, now, calendar):
        self.rows, self.rng, self.now, self.calendar = rows, rng, now, calendar
        self.deck = []  # the community's topics, shuffled, so its proposals differ

    def due(self, at, days):
        from portal.workcalendar.calendar import add_working_time
        from portal.workcalendar.models import TimeUnit

        return add_working_time(at, days, TimeUnit.WORKING_DAYS, calendar=self.calendar)

    def event(self, at, action, actor, *, note="", data=None, **subject):
        self.rows.add("Event", proposal_id=subject.get("proposal"), meeting_id=subject.get("meeting"),
                      track_id=subject.get("track"), project_id=subject.get("project"), action=action,
                      actor_id=actor, at=at, note=note, data=data or {})

    def move(self, machine, row, name, target, at, actor, *, note="", data=None, state="status", **changes):
        """A transition of workflow.py's `machine` table: the row's new state and its timeline line."""
        before = row[state]
        after = target or before
        row[state] = after
        row.update(changes)
        self.event(at, f"{machine}.{name}", actor, note=note, data={"from": before, "to": after, **(data or {})},
                   **{machine: row["id"]})

    # --- proposals ----------------------------------------------------------------------------------

    def proposal(self, place, at, *, to_deliberation=False, supports=None, grid=None):
        """A proposal entered at `at`; supports from residents of its place, perhaps up to the threshold."""
        rng = self.rng
        grid = grid if grid is not None else (rng.choice(place.grids) if place.grids and rng.random() < 0.5
                                              else None)
        people = place.people(grid)
        title, description = self.topic()
        threshold = rng.choice((5, 8, 10))
        proposer = rng.choice(people) if people and rng.random() < 0.7 else None
        row = self.rows.add("Proposal", **place.path(grid), title=title, description=description,
                            origin="resident" if proposer else "staff", proposer_id=proposer, category_id=None,
                            case_count=0, threshold=threshold, support_count=0, status="collecting",
                            created_by_id=place.staff, created_at=at, deliberation_at=None, decided_at=None)
        self.event(at, "proposal.create", place.staff, data={"origin": row["origin"]}, proposal=row["id"])
        wanted = threshold if to_deliberation else (supports if supports is not None else rng.randrange(threshold))
        others = [p for p in people if p != proposer]
        when = at
        for resident in rng.sample(others, min(wanted, len(others))):
            if when + timedelta(hours=20) >= self.now:
                break
            when += timedelta(hours=rng.randrange(2, 20))
            self.rows.add("Support", proposal_id=row["id"], resident_id=resident, recorded_by_id=place.staff, at=when)
            row["support_count"] += 1
            self.event(when, "proposal.support", place.staff, data={"supports": row["support_count"]},
                       proposal=row["id"])
            if row["support_count"] >= threshold:
                self.move("proposal", row, "reach_threshold", "deliberation", when, None,
                          data={"supports": row["support_count"]}, deliberation_at=when)
                break
        if to_deliberation and row["status"] == "collecting":
            when += timedelta(hours=1)
            self.move("proposal", row, "deliberate", "deliberation", when, place.staff, deliberation_at=when)
        return row, when

    def from_cases(self, place, at):
        from django.conf import settings
        from django.utils import translation
        from django.utils.translation import gettext as _

        grid, category, code, category_name, numbers = place.cluster
        grid_name = place.grid_names[grid]
        with translation.override(settings.LANGUAGE_CODE):
            title = (_("Recurring: %(category)s in %(place)s") % {"category": category_name, "place": grid_name})
            description = _("%(n)d cases of “%(category)s” in %(place)s in the last 90 days: %(numbers)s") % {
                "n": len(numbers), "category": category_name, "place": grid_name, "numbers": "、".join(numbers[:20])}
        row = self.rows.add("Proposal", **place.path(grid), title=title[:100], description=description,
                            origin="cases", proposer_id=None, category_id=category, case_count=len(numbers),
                            threshold=10, support_count=0, status="collecting", created_by_id=place.staff,
                            created_at=at, deliberation_at=None, decided_at=None)
        self.event(at, "proposal.from_cases", place.staff, data={"cases": len(numbers), "category": code},
                   proposal=row["id"])

    def decide(self, row, decision, at, actor, *, note, data):
        self.move("proposal", row, "adopt" if decision == "adopted" else "reject", decision, at, actor, note=note,
                  data=data, decided_at=at)

    def votes(self, attendance, adopt):
        cast = self.rng.randrange(max(3, attendance * 2 // 3), attendance + 1)
        if adopt:
            votes_for = self.rng.randrange(cast // 2 + 1, cast + 1)
        else:
            votes_for = self.rng.randrange(0, (cast + 1) // 2)
        against = self.rng.randrange(0, cast - votes_for + 1)
        decision = "adopted" if votes_for * 2 > cast else "rejected"
        return (votes_for, against, cast - votes_for - against), decision

    # --- meetings -------------------------------------------------------------------------------------

    def meeting(self, place, held_at, proposals, *, held):
        rng, staff = self.rng, place.staff
        kind, word = rng.choice(MEETING_KINDS)
        created = min(held_at - timedelta(days=7), self.now - timedelta(days=2))
        row = self.rows.add("Meeting", **place.path(), kind=kind, title=f"{place.name}{word}", held_at=held_at,
                            location=f"{place.name}党群服务中心", participants="", attendance=0, minutes="",
                            closed_at=None, created_by_id=staff, created_at=created)
        self.event(created, "meeting.create", staff, data={"kind": kind}, meeting=row["id"])
        added = created + timedelta(days=1)
        items = []
        for proposal in proposals:
            self.move("proposal", proposal, "put_on_agenda", None, added, staff, data={"meeting": row["id"]})
            items.append(self.rows.add("AgendaItem", meeting_id=row["id"], proposal_id=proposal["id"], votes_for=None,
                                       votes_against=None, votes_abstain=None, decision="", decision_text="",
                                       decided_at=None))
            self.event(added, "meeting.add_item", staff, data={"proposal": proposal["id"]}, meeting=row["id"])
        if not held:
            return row
        at = held_at + timedelta(hours=2)
        attendance = rng.randrange(15, 41)
        row.update(participants=rng.choice(PARTICIPANTS).format(a=attendance - 10, b=rng.randrange(2, 6)),
                   attendance=attendance,
                   minutes="；".join(f"议题“{p['title']}”：与会人员充分讨论后表决。" for p in proposals))
        self.event(at, "meeting.record", staff, data={"attendance": attendance}, meeting=row["id"])
        for item, proposal in zip(items, proposals):
            (votes_for, against, abstain), decision = self.votes(attendance, rng.random() < 0.75)
            text = "同意实施，由社区牵头落实。" if decision == "adopted" else "暂不实施，待条件成熟后再议。"
            item.update(votes_for=votes_for, votes_against=against, votes_abstain=abstain, decision=decision,
                        decision_text=text, decided_at=at)
            data = {"for": votes_for, "against": against, "abstain": abstain, "meeting": row["id"]}
            self.event(at, "meeting.vote", staff, note=text,
                       data={**data, "decision": decision, "proposal": proposal["id"]}, meeting=row["id"])
            self.decide(proposal, decision, at, staff, note=text, data=data)
        row["closed_at"] = held_at + timedelta(days=1)
        self.event(row["closed_at"], "meeting.close", staff, meeting=row["id"])
        return row

    # --- 四议两公开 ---------------------------------------------------------------------------------------

    def track(self, place, stage):
        """A proposal taken to 四议两公开 and moved to `stage`; its last step a few days ago."""
        rng, staff, now = self.rng, place.staff, self.now
        reached = TRACK_STAGES.index(stage)
        steps = min(reached, 4)
        # Working backwards from the last move, so current deadlines still lie ahead.
        if stage == "done":
            published = now - timedelta(days=rng.randrange(18, 40))
        elif stage == "published":
            published = now - timedelta(days=rng.randrange(2, 5))
        else:
            published = None
        if published:
            last = published - timedelta(days=2)
        elif stage == "decided":  # two working days to publish: decided within the day
            last = now - timedelta(hours=rng.randrange(2, 12))
        else:
            last = now - timedelta(days=rng.randrange(1, 4))
        opened = last - timedelta(days=9 * steps + rng.randrange(1, 4))
        proposal, moved = self.proposal(place, opened - timedelta(days=rng.randrange(20, 40)), to_deliberation=True)
        opened = max(opened, moved + timedelta(hours=1))
        self.move("proposal", proposal, "open_track", None, opened, staff)
        row = self.rows.add("Track", **{k: proposal[k] for k in ("district_id", "street_id", "community_id",
                                                                 "grid_id")},
                            proposal_id=proposal["id"], stage="opened", responsible_level="community",
                            due_at=self.due(opened, 10), escalation_count=0, decision="", decision_text="",
                            published_at=None, publication_ends_at=None, result_text="", result_published_at=None,
                            created_at=opened)
        self.event(opened, "track.open", staff, track=row["id"])
        at = opened
        targets = dict(zip(TRACK_STEPS, TRACK_STAGES[1:5]))
        for number, step in enumerate(TRACK_STEPS[:steps], start=1):
            # The stage's own step lands on `last`, so its deadline is counted from there and
            # still lies ahead of `now` whatever the date (holidays and weekends included).
            at = last if number == steps else min(at + timedelta(days=9), last)
            if step != "decide":
                self.move("track", row, step, targets[step], at, staff, note=TRACK_NOTES[step], state="stage",
                          due_at=self.due(at, 10))
                continue
            attendance = rng.randrange(30, 80)
            (votes_for, against, abstain), decision = self.votes(attendance, True)
            text = f"同意实施“{proposal['title']}”，费用按方案分摊。"
            data = {"for": votes_for, "against": against, "abstain": abstain, "decision": decision}
            self.move("track", row, step, targets[step], at, staff, note=TRACK_NOTES[step], state="stage", data=data,
                      due_at=self.due(at, 2), decision=decision, decision_text=text)
            self.decide(proposal, decision, at, staff, note=text, data=data)
        if published is None:
            return row
        days = 7
        self.move("track", row, "publish_decision", "published", published, staff, state="stage",
                  data={"days": days}, published_at=published, publication_ends_at=published + timedelta(days=days),
                  due_at=None)
        text, answer = rng.choice(OBJECTIONS)
        raised = published + timedelta(days=1)
        resident = rng.choice(place.people(row["grid_id"]) or [None])
        objection = self.rows.add("Objection", track_id=row["id"], resident_id=resident, text=text, raised_at=raised,
                                  answer_due_at=self.due(raised, 3), answer="", answered_at=None, escalated_at=None,
                                  recorded_by_id=staff)
        self.move("track", row, "object", None, raised, staff, state="stage", data={"objection": objection["id"]})
        answered = min(raised + timedelta(hours=rng.randrange(4, 30)), self.now - timedelta(hours=1))
        objection.update(answer=answer, answered_at=answered)
        self.move("track", row, "answer", None, answered, staff, note=answer, state="stage",
                  data={"objection": objection["id"], "late": answered > objection["answer_due_at"]})
        if stage == "done":
            at = row["publication_ends_at"] + timedelta(days=rng.randrange(1, 5))
            self.move("track", row, "publish_result", "done", at, staff, state="stage",
                      result_text="已按决议完成实施，经居民代表验收合格。", result_published_at=at, due_at=None)
        return row

    # --- projects -------------------------------------------------------------------------------------

    def project(self, place, status, *, adopted=None):
        from grid.seeding import COMPOUND_KINDS, COMPOUND_WORDS

        rng, staff, now = self.rng, place.staff, self.now
        title, budget = rng.choice(PROJECTS)
        grid = adopted["grid_id"] if adopted else (rng.choice(place.grids) if place.grids else None)
        spans = {"completed": 200, "implementing": 120, "approved": 40, "rejected": 30, "reviewed": 20, "applied": 6}
        at = now - timedelta(days=spans[status] + rng.randrange(0, 10))
        if adopted:
            title = adopted["title"]
            at = max(at, adopted["decided_at"] + timedelta(days=5))
        row = self.rows.add("Project", **place.path(grid), title=title,
                            description=f"{title}，惠及周边居民约{rng.randrange(100, 600)}户。",
                            applicant=f"{rng.choice(COMPOUND_WORDS)}{rng.choice(COMPOUND_KINDS)}业委会",
                            budget=budget, proposal_id=adopted["id"] if adopted else None, status="applied",
                            progress=0, rating_count=0, rating_total=0, created_by_id=staff, created_at=at,
                            completed_at=None)
        self.event(at, "project.apply", staff, project=row["id"])
        path = {"completed": ("review", "approve", "start"), "implementing": ("review", "approve", "start"),
                "approved": ("review", "approve"), "reviewed": ("review",), "rejected": ("reject",),
                "applied": ()}[status]
        targets = {"review": "reviewed", "approve": "approved", "start": "implementing", "reject": "rejected"}
        # Path steps, up to three updates, completion, and room for the evaluations after it.
        step = (now - at).days // (len(path) + 5) or 1
        for name in path:
            at += timedelta(days=step)
            note = "预算超出本年度额度，建议明年再申报。" if name == "reject" else ""
            self.move("project", row, name, targets[name], at, staff, note=note)
        if status not in ("implementing", "completed"):
            return row
        progress = 0
        for note in PROGRESS_NOTES[: 3 if status == "completed" else rng.randrange(1, 3)]:
            at += timedelta(days=step)
            progress = min(95, progress + rng.randrange(20, 40))
            self.rows.add("ProjectUpdate", project_id=row["id"], note=note, progress=progress, at=at, by_id=staff)
            self.move("project", row, "report_progress", None, at, staff, data={"progress": progress, "photos": 0},
                      progress=progress)
        if status == "implementing":
            return row
        at += timedelta(days=step)
        self.move("project", row, "complete", "completed", at, staff, progress=100, completed_at=at)
        people = place.people(grid)
        for resident in rng.sample(people, min(len(people), rng.randrange(3, 9))):
            at += timedelta(hours=rng.randrange(1, 48))
            rating = rng.choice((3, 4, 4, 5, 5, 5))
            self.rows.add("Evaluation", project_id=row["id"], resident_id=resident, rating=rating,
                          comment=rng.choice(EVALUATION_COMMENTS), recorded_by_id=staff, at=at)
            self.move("project", row, "evaluate", None, at, staff, data={"rating": rating},
                      rating_count=row["rating_count"] + 1, rating_total=row["rating_total"] + rating)
        return row

    # --- a community's year ---------------------------------------------------------------------------

    def topic(self):
        if not self.deck:
            self.deck = self.rng.sample(TOPICS, len(TOPICS))
        return self.deck.pop()

    def community(self, place):
        from portal.workcalendar.calendar import TZ

        rng, now = self.rng, self.now.astimezone(TZ)
        self.deck = []
        start = now - timedelta(days=365)
        adopted = []
        for n in range(PAST_MEETINGS):
            held_at = (start + timedelta(days=80 * (n + 1) + rng.randrange(-10, 10))).replace(
                hour=rng.choice((9, 14, 19)), minute=0, second=0, microsecond=0)
            on_agenda = [self.proposal(place, held_at - timedelta(days=rng.randrange(25, 60)),
                                       to_deliberation=True)[0] for _n in range(rng.randrange(1, 3))]
            self.meeting(place, held_at, on_agenda, held=True)
            adopted += [p for p in on_agenda if p["status"] == "adopted"]
        upcoming = (now + timedelta(days=rng.randrange(3, 10))).replace(hour=19, minute=0, second=0, microsecond=0)
        self.meeting(place, upcoming, [self.proposal(place, now - timedelta(days=30), to_deliberation=True)[0]],
                     held=False)
        self.proposal(place, now - timedelta(days=rng.randrange(20, 30)), to_deliberation=True)
        for days in (rng.randrange(2, 9), rng.randrange(9, 20)):
            self.proposal(place, now - timedelta(days=days))
        if place.index % 2 == 0 or rng.random() < 0.3:
            withdrawn, at = self.proposal(place, now - timedelta(days=rng.randrange(60, 120)), supports=1)
            self.move("proposal", withdrawn, "withdraw", "withdrawn", at + timedelta(days=3), place.staff,
                      note="提议人表示问题已自行协商解决。")
        if place.cluster:
            self.from_cases(place, now - timedelta(hours=rng.randrange(2, 48)))
        for stage in TRACK_STAGES:
            self.track(place, stage)
        extras = (EXTRA_PROJECT_STATUSES * 2)[place.index % 4:][: rng.randrange(1, 4)]
        first = min(adopted, key=lambda p: p["decided_at"], default=None)
        if first is not None and first["decided_at"] > now - timedelta(days=150):
            first = None
        for status in ("completed", "implementing", *extras):
            self.project(place, status, adopted=first if status == "completed" else None)


FIELDS = {
    "Proposal": ("id", "district_id", "street_id", "community_id", "grid_id", "title", "description", "origin",
                 "proposer_id", "category_id", "case_count", "threshold", "support_count", "status", "created_by_id",
                 "created_at", "deliberation_at", "decided_at"),
    "Support": ("id", "proposal_id", "resident_id", "recorded_by_id", "at"),
    "Meeting": ("id", "district_id", "street_id", "community_id", "grid_id", "kind", "title", "held_at", "location",
                "participants", "attendance", "minutes", "closed_at", "created_by_id", "created_at"),
    "AgendaItem": ("id", "meeting_id", "proposal_id", "votes_for", "votes_against", "votes_abstain", "decision",
                   "decision_text", "decided_at"),
    "Track": ("id", "district_id", "street_id", "community_id", "grid_id", "proposal_id", "stage", "responsible_level",
              "due_at", "escalation_count", "decision", "decision_text", "published_at", "publication_ends_at",
              "result_text", "result_published_at", "created_at"),
    "Objection": ("id", "track_id", "resident_id", "text", "raised_at", "answer_due_at", "answer", "answered_at",
                  "escalated_at", "recorded_by_id"),
    "Project": ("id", "district_id", "street_id", "community_id", "grid_id", "title", "description", "applicant",
                "budget", "proposal_id", "status", "progress", "rating_count", "rating_total", "created_by_id",
                "created_at", "completed_at"),
    "ProjectUpdate": ("id", "project_id", "note", "progress", "at", "by_id"),
    "Evaluation": ("id", "project_id", "resident_id", "rating", "comment", "recorded_by_id", "at"),
    "Event": ("id", "proposal_id", "meeting_id", "track_id", "project_id", "action", "actor_id", "at", "note", "data"),
}


def seed(*, scale, rng, stdout, now):
    from django.apps import apps

    from grid import seeding
    from grid.models import Area, AreaKind
    from portal.workcalendar import calendar as working_calendar

    from .models import Proposal

    if Proposal.objects.exists():
        stdout.write("  participation: proposals already exist, nothing seeded")
        return
    communities = list(Area.objects.filter(kind=AreaKind.COMMUNITY, is_active=True)
                       .values_list("id", "name", "code", "parent_id", "parent__parent_id").order_by("tree_id", "lft"))
    if not communities:
        stdout.write("  participation: no communities, nothing to seed")
        return
    grids_of, grid_names = {}, {}
    for pk, parent_id, name in Area.objects.filter(kind=AreaKind.GRID, is_active=True).values_list(
            "id", "parent_id", "name"):
        grids_of.setdefault(parent_id, []).append(pk)
        grid_names[pk] = name
    staff = _staff(communities, now)
    clusters = _clusters(grids_of, now)
    models = [apps.get_model("participation", name) for name in FIELDS]
    rows = Rows(ids={m._meta.object_name: seeding.first_free_id(m) for m in models})
    planner = Planner(rows=rows, rng=rng, now=now, calendar=working_calendar.current())
    totals = {}
    with seeding.trusted_bulk_load(models):
        for first in range(0, len(communities), COMMUNITIES_PER_CHUNK):
            chunk = communities[first:first + COMMUNITIES_PER_CHUNK]
            people = _residents(chunk, now)
            for index, (pk, name, _code, street_id, district_id) in enumerate(chunk, start=first):
                planner.community(Place(id=pk, name=name, street_id=street_id, district_id=district_id, index=index,
                                        grids=grids_of.get(pk, []), grid_names=grid_names,
                                        residents=people.get(pk, {}), staff=staff[pk], cluster=clusters.get(pk)))
            for model in models:
                name = model._meta.object_name
                table = rows.tables.pop(name, [])
                if table:
                    seeding.write_rows(model=model, fields=FIELDS[name],
                                       rows=(tuple(row[f] for f in FIELDS[name]) for row in table))
                    if name == "Proposal":
                        for row in table:
                            totals[row["status"]] = totals.get(row["status"], 0) + 1
            if len(communities) > COMMUNITIES_PER_CHUNK:
                stdout.write(f"    participation: {first + len(chunk):,} / {len(communities):,} communities")
    seeding.finish_bulk_load(models)
    counts = rows.counts
    stdout.write(f"    {counts.get('Proposal', 0):,} proposals ({totals.get('adopted', 0):,} adopted), "
                 f"{counts.get('Support', 0):,} supports, {counts.get('Meeting', 0):,} meetings, "
                 f"{counts.get('Track', 0):,} 四议两公开 tracks, {counts.get('Project', 0):,} projects, "
                 f"{counts.get('Event', 0):,} timeline events")


def _staff(communities, now):
    """{community id: user id} who enters and manages: its community staff, else an organiser account
    (the same `organiser-<code>` login volunteers/seed.py makes, created here when missing)."""
    from django.contrib.auth.hashers import make_password

    from grid.models import Post, Role, User

    staff = {}
    for user_id, area_id in Post.objects.filter(role=Role.COMMUNITY_STAFF, ended_at__isnull=True).order_by(
            "id").values_list("user_id", "area_id"):
        staff.setdefault(area_id, user_id)
    usernames = {f"organiser-{code}": pk for pk, _name, code, _s, _d in communities if pk not in staff}
    found = dict(User.objects.filter(username__in=list(usernames)).values_list("username", "pk"))
    missing = [u for u in usernames if u not in found]
    if missing:
        names = {f"organiser-{code}": name for _pk, name, code, _s, _d in communities}
        unusable = make_password(None)
        User.objects.bulk_create([User(username=u, full_name=f"{names[u]}居民议事会", password=unusable,
                                       is_active=False, date_joined=now) for u in missing], batch_size=2_000)
        found = dict(User.objects.filter(username__in=list(usernames)).values_list("username", "pk"))
    for username, community_id in usernames.items():
        staff[community_id] = found[username]
    return staff


def _clusters(grids_of, now):
    """{community id: (grid, category id, code, name, case numbers)}: one recurring-case cluster each."""
    from django.db.models import Count

    from . import hooks
    from .selectors import CLUSTER_MIN_CASES, CLUSTER_WINDOW, categories

    community_of = {grid: community for community, grids in grids_of.items() for grid in grids}
    since = now - CLUSTER_WINDOW
    chosen = {}
    public = hooks.cases_for_proposals(None)
    for grid_id, category_id, _n in (public.filter(created_at__gte=since, created_at__lte=now, grid__isnull=False)
                                     .values_list("grid_id", "category_id").annotate(n=Count("id"))
                                     .filter(n__gte=CLUSTER_MIN_CASES).order_by("-n", "grid_id", "category_id")):
        if grid_id in community_of:
            chosen.setdefault(community_of[grid_id], (grid_id, category_id))
    names = {pk: (code, name) for pk, code, name in categories().filter(
        pk__in={c for _g, c in chosen.values()}).values_list("id", "code", "name")}
    found = {}
    for community_id, (grid_id, category_id) in chosen.items():
        numbers = list(public.filter(grid_id=grid_id, category_id=category_id, created_at__gte=since,
                                           created_at__lte=now).order_by("-created_at")
                       .values_list("number", flat=True)[:200])
        found[community_id] = (grid_id, category_id, *names[category_id], numbers)
    return found


def _residents(chunk, now):
    """{community id: {grid id: [resident id]}}: living adults, the first few hundred of each community.

    In name order: the (community, status, name) index answers it; in id order PostgreSQL walks the
    whole primary key for each community (seconds each at medium scale)."""
    from residents.models import Resident, ResidentStatus

    cutoff = now.date() - timedelta(days=365 * 18 + 5)
    found = {}
    for community_id, *_rest in chunk:
        grids = found.setdefault(community_id, {})
        for pk, grid_id in (Resident.objects.filter(community_id=community_id, status=ResidentStatus.LIVING,
                                                    birth_date__lte=cutoff)
                            .order_by("name", "id").values_list("id", "grid_id")[:RESIDENTS_PER_COMMUNITY]):
            grids.setdefault(grid_id, []).append(pk)
    return found
