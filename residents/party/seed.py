"""Party building for `manage.py seed_city` (the app seeder hook), after residents and volunteers.

In a sample of communities (the demo account's community first; at most SAMPLE_COMMUNITIES, so
a large city seeds in seconds): the community party committee with a secretary and members,
a grid party branch, a compound branch and a building group where there are compounds and
buildings, a 区域党委 per street joining its stationed units, two employer units per street,
members reported in (双报到: confirmed, one waiting), small wishes in every state (open,
adopted, fulfilled, confirmed with its service hours in the volunteers' records, withdrawn),
and 包片 assignments for the demo's district and street accounts. At demo scale the login
`partymember` (grid.demo.DEMO_PASSWORD) is reported in to the demo community with every post.

Rows are written as the services write them (same fields, paths and states); confirmed
services go through hooks.service_confirmed like a confirmation on the staff page.
Seeding twice is harmless: with party organisations already there, nothing is seeded.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from grid.demo import DEMO_PASSWORD
from grid.models import Area, AreaKind, Building, Compound, Liaison, LiaisonLevel, Organisation, OrgKind as UnitKind
from grid.models import Post, Role, User
from grid.services import path_values
from residents.models import Resident, ResidentStatus

from . import hooks
from .models import (
    EmployerUnit,
    MemberRole,
    Membership,
    OrgKind,
    PartyOrg,
    ReportIn,
    ReportStatus,
    Service,
    ServicePost,
    Wish,
    WishStatus,
)

SAMPLE_COMMUNITIES = 12
MEMBER_USERNAME = "partymember"
EMPLOYERS = ("市税务局", "区人民医院", "市第一中学", "区住建局", "国网供电公司", "市公安局交警支队")
WISHES = (
    ("一台收音机", "elderly", "120"), ("冬季棉被一床", "daily", "200"), ("孙子的新书包", "study", "150"),
    ("一副老花镜", "health", "100"), ("助行器", "elderly", "300"), ("家里换个节能灯", "daily", "50"),
)


def _staff_of(community, now):
    post = (Post.objects.filter(role=Role.COMMUNITY_STAFF, area=community, ended_at__isnull=True)
            .order_by("id").first())
    if post:
        return post.user
    user, _created = User.objects.get_or_create(
        username=f"organiser-{community.code}",
        defaults={"full_name": f"{community.name}居民议事会", "password": make_password(None), "is_active": False,
                  "date_joined": now})
    return user


def _communities():
    demo = Post.objects.filter(user__username="community", role=Role.COMMUNITY_STAFF, ended_at__isnull=True).first()
    rows = list(Area.objects.filter(kind=AreaKind.COMMUNITY, is_active=True).order_by("code")[:SAMPLE_COMMUNITIES])
    if demo and demo.area_id not in {c.pk for c in rows}:
        rows = [demo.area, *rows[:-1]]
    elif demo:
        rows.sort(key=lambda c: c.pk != demo.area_id)
    return rows


def seed(*, scale, rng, stdout, now):
    if PartyOrg.objects.exists():
        return
    communities = _communities()
    counts = {"orgs": 0, "members": 0, "reports": 0, "wishes": 0, "services": 0, "liaisons": 0}
    employers = {}
    for street in Area.objects.filter(pk__in={c.parent_id for c in communities}).order_by("code"):
        registrar = _staff_of(communities[0], now)
        names = rng.sample(EMPLOYERS, 2)
        employers[street.pk] = [EmployerUnit.objects.create(name=name, registered_at=now - timedelta(days=200),
                                                            registered_by=registrar, **path_values(street))
                                for name in names]
        regional = PartyOrg.objects.create(kind=OrgKind.REGIONAL, name=f"{street.name}区域党委",
                                           created_at=now - timedelta(days=400), **path_values(street))
        regional.units.set(Organisation.objects.filter(kind=UnitKind.STATIONED, seat=street))
        counts["orgs"] += 1
    for index, community in enumerate(communities):
        _seed_community(community, index=index, rng=rng, now=now, employers=employers[community.parent_id],
                        counts=counts)
    counts["liaisons"] = _seed_liaisons(communities, now)
    stdout.write(f"  party: {counts['orgs']} organisations, {counts['members']} members, {counts['reports']} "
                 f"reports-in, {counts['wishes']} wishes, {counts['services']} services, "
                 f"{counts['liaisons']} 包片 assignments")
    if User.objects.filter(username=MEMBER_USERNAME).exists():
        stdout.write(f"  party member's demo login: {MEMBER_USERNAME} / {DEMO_PASSWORD}")


def _seed_community(community, *, index, rng, now, employers, counts):
    staff = _staff_of(community, now)
    path = path_values(community)
    residents = list(Resident.objects.filter(community=community, status=ResidentStatus.LIVING)
                     .order_by("id")[:40])
    if len(residents) < 12:
        return
    rng.shuffle(residents)
    committee = PartyOrg.objects.create(kind=OrgKind.COMMITTEE, name=f"{community.name}党委",
                                        created_at=now - timedelta(days=900), **path)
    orgs = [committee]
    grid = Area.objects.filter(parent=community, is_active=True).order_by("code").first()
    if grid:
        orgs.append(PartyOrg.objects.create(kind=OrgKind.GRID_BRANCH, name=f"{grid.name}党支部",
                                            created_at=now - timedelta(days=600), **path_values(grid)))
        building = Building.objects.filter(grid=grid).order_by("id").first()
        if building:
            orgs.append(PartyOrg.objects.create(kind=OrgKind.BUILDING_GROUP, name=f"{building.number}党小组",
                                                building=building, created_at=now - timedelta(days=300),
                                                **path_values(grid)))
    compound = Compound.objects.filter(community=community, is_active=True).order_by("id").first()
    if compound:
        orgs.append(PartyOrg.objects.create(kind=OrgKind.COMPOUND_BRANCH, name=f"{compound.name}党支部",
                                            compound=compound, created_at=now - timedelta(days=500), **path))
    counts["orgs"] += len(orgs)
    # The committee's roll: a secretary and two members, residents of the community.
    for person, role in zip(residents[:3], (MemberRole.SECRETARY, MemberRole.MEMBER, MemberRole.MEMBER)):
        Membership.objects.create(org=committee, resident=person, name=person.name, role=role,
                                  joined_at=now - timedelta(days=700), district_id=committee.district_id,
                                  street_id=committee.street_id, community_id=committee.community_id)
        counts["members"] += 1
    # 双报到: three residents confirmed (the wishes post for two), one waiting.
    reports = []
    for n, person in enumerate(residents[3:7]):
        confirmed = n < 3
        reports.append(ReportIn.objects.create(
            resident=person, name=person.name, employer_name=employers[n % len(employers)].name,
            employer=employers[n % len(employers)], post_building_helper=n == 2, post_volunteer=n != 1,
            post_wishes=n < 2 or n == 3, status=ReportStatus.CONFIRMED if confirmed else ReportStatus.PENDING,
            registered_at=now - timedelta(days=60 - n), confirmed_at=now - timedelta(days=58 - n) if confirmed else None,
            confirmed_by=staff if confirmed else None, **path))
    if index == 0 and User.objects.filter(username="community").exists():
        member, _created = User.objects.get_or_create(
            username=MEMBER_USERNAME, defaults={"full_name": "刘建国", "phone": "13980001234",
                                                "password": make_password(DEMO_PASSWORD), "date_joined": now})
        reports.append(ReportIn.objects.create(
            user=member, name=member.full_name, employer_name=employers[0].name, employer=employers[0],
            post_building_helper=True, post_volunteer=True, post_wishes=True, status=ReportStatus.CONFIRMED,
            registered_at=now - timedelta(days=30), confirmed_at=now - timedelta(days=29), confirmed_by=staff,
            **path))
    counts["reports"] += len(reports)
    adopters = [r for r in reports if r.status == ReportStatus.CONFIRMED and r.post_wishes]
    # Wishes in every state, for residents who are not members.
    states = (WishStatus.POSTED, WishStatus.POSTED, WishStatus.ADOPTED, WishStatus.FULFILLED, WishStatus.CONFIRMED,
              WishStatus.WITHDRAWN)
    for n, (status, person, (title, category, cap)) in enumerate(zip(states, residents[7:], WISHES)):
        posted = now - timedelta(days=20 - n)
        fields = {"status": status, "posted_by": staff, "posted_at": posted}
        adopter = adopters[n % len(adopters)]
        if status in (WishStatus.ADOPTED, WishStatus.FULFILLED, WishStatus.CONFIRMED):
            fields.update(adopter=adopter, adopted_at=posted + timedelta(days=1))
        if status in (WishStatus.FULFILLED, WishStatus.CONFIRMED):
            fields.update(fulfil_note="已送到家中，老人很满意", fulfilled_at=posted + timedelta(days=4))
        if status == WishStatus.CONFIRMED:
            fields.update(confirmed_by=staff, confirmed_at=posted + timedelta(days=5))
        if status == WishStatus.WITHDRAWN:
            fields.update(withdrawn_by=staff, withdrawn_at=posted + timedelta(days=2))
        wish = Wish.objects.create(resident=person, title=title, category=category, budget_cap=Decimal(cap),
                                   district_id=person.district_id, street_id=person.street_id,
                                   community_id=person.community_id, grid_id=person.grid_id, **fields)
        counts["wishes"] += 1
        if status == WishStatus.CONFIRMED:
            _service(adopter, ServicePost.WISH, f"微心愿：{title}", wish.fulfilled_at - timedelta(hours=2),
                     Decimal("2"), staff, wish.confirmed_at, wish=wish)
            counts["services"] += 1
    helper = next((r for r in reports if r.status == ReportStatus.CONFIRMED and r.post_volunteer), None)
    if helper:
        _service(helper, ServicePost.VOLUNTEER, "协助清理楼道杂物", now - timedelta(days=10, hours=3),
                 Decimal("1.5"), staff, now - timedelta(days=9))
        counts["services"] += 1


def _service(report, post, content, started_at, hours, staff, confirmed_at, *, wish=None):
    ended_at = started_at + timedelta(hours=float(hours))
    service = Service.objects.create(report=report, post=post, wish=wish, content=content, started_at=started_at,
                                     ended_at=ended_at, hours=hours, confirmed_by=staff, confirmed_at=confirmed_at)
    community = Area.objects.get(pk=report.community_id)
    hooks.service_confirmed(source_key=f"party-service:{service.pk}", name=report.name, user=report.user,
                            resident=report.resident, community=community, started_at=started_at, ended_at=ended_at,
                            hours=hours, content=content, confirmed_by=staff, now=confirmed_at)
    return service


def _seed_liaisons(communities, now):
    """包片: the demo district official looks after each sampled street, the demo street staff each
    sampled community of their street."""
    made = 0
    leaders = {post.user.username: post for post in Post.objects.filter(
        user__username__in=("district", "street"), ended_at__isnull=True).select_related("user", "area")}
    streets = {c.parent_id for c in communities}
    if "district" in leaders:
        district = leaders["district"].area
        for street in Area.objects.filter(pk__in=streets, parent=district):
            Liaison.objects.create(user=leaders["district"].user, level=LiaisonLevel.DISTRICT, area=street,
                                   started_at=now - timedelta(days=365))
            made += 1
    if "street" in leaders:
        street = leaders["street"].area
        for community in communities:
            if community.parent_id == street.pk:
                Liaison.objects.create(user=leaders["street"].user, level=LiaisonLevel.STREET, area=community,
                                       started_at=now - timedelta(days=365))
                made += 1
    return made
