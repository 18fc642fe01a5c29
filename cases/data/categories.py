"""The categories shipped with the portal (staff may edit them in the admin).

Each row: code, name, family, 三事分流 class, limits to dispatch / accept /
handle as (value, unit), and whether the matter is a dispute for mediation.
Names are data, in Chinese, as the city's standards name them. Limits follow
the usual digital city-management standards (e.g. exposed garbage 4 working
hours, dirty road 2 working hours, three street lamps in a row out 1 working
day, illegal construction stopped within 4 working hours).
"""

WH, WD, H, M = "working_hours", "working_days", "hours", "minutes"
COMPONENT, INCIDENT = "component", "incident"
PUBLIC, SMALL, PRIVATE = "public", "small", "private"

# (code, name, family, triage, dispatch, accept, handle, is_mediation)
TOP = [
    ("C01", "公用设施", COMPONENT, PUBLIC, (1, WH), (1, WH), (3, WD), False),
    ("C02", "交通设施", COMPONENT, PUBLIC, (1, WH), (1, WH), (3, WD), False),
    ("C03", "市容环境设施", COMPONENT, PUBLIC, (1, WH), (1, WH), (2, WD), False),
    ("C04", "园林绿化设施", COMPONENT, PUBLIC, (1, WH), (1, WH), (3, WD), False),
    ("E01", "市容环境", INCIDENT, PUBLIC, (1, WH), (1, WH), (1, WD), False),
    ("E02", "施工管理", INCIDENT, PUBLIC, (1, WH), (1, WH), (2, WD), False),
    ("E03", "街面秩序", INCIDENT, PUBLIC, (1, WH), (1, WH), (4, WH), False),
    ("E04", "突发事件", INCIDENT, PUBLIC, (15, M), (30, M), (4, H), False),
    ("E05", "矛盾纠纷", INCIDENT, SMALL, (2, WH), (1, WD), (10, WD), True),
    ("E06", "安全隐患", INCIDENT, PUBLIC, (1, WH), (1, WH), (1, WD), False),
    ("E07", "公共卫生", INCIDENT, PUBLIC, (1, WH), (1, WH), (2, WD), False),
    ("E08", "民生服务", INCIDENT, SMALL, (2, WH), (4, WH), (3, WD), False),
]

# (parent code, code, name, triage, dispatch, accept, handle)  — family and mediation follow the parent.
SUB = [
    ("C01", "C0101", "井盖缺失破损", PUBLIC, (30, M), (1, WH), (4, WH)),
    ("C01", "C0102", "路灯不亮（连续三盏及以上）", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("C01", "C0103", "路灯不亮（单盏）", PUBLIC, (1, WH), (2, WH), (3, WD)),
    ("C01", "C0104", "消防栓损坏", PUBLIC, (1, WH), (1, WH), (2, WD)),
    ("C01", "C0105", "供水设施损坏", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("C02", "C0201", "公交站亭损坏", PUBLIC, (1, WH), (2, WH), (3, WD)),
    ("C02", "C0202", "交通标志缺损", PUBLIC, (1, WH), (2, WH), (3, WD)),
    ("C02", "C0203", "道路护栏损坏", PUBLIC, (1, WH), (2, WH), (2, WD)),
    ("C03", "C0301", "垃圾箱破损或满溢", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("C03", "C0302", "公厕设施损坏", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("C03", "C0303", "户外广告牌破损", PUBLIC, (1, WH), (2, WH), (3, WD)),
    ("C04", "C0401", "行道树倒伏", PUBLIC, (30, M), (1, WH), (4, WH)),
    ("C04", "C0402", "绿地毁损", PUBLIC, (1, WH), (2, WH), (5, WD)),
    ("E01", "E0101", "暴露垃圾", PUBLIC, (1, WH), (1, WH), (4, WH)),
    ("E01", "E0102", "道路不洁", PUBLIC, (1, WH), (1, WH), (2, WH)),
    ("E01", "E0103", "积存垃圾渣土", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("E01", "E0104", "乱张贴乱涂写", PUBLIC, (1, WH), (2, WH), (1, WD)),
    ("E01", "E0105", "楼道堆物", SMALL, (2, WH), (2, WH), (2, WD)),
    ("E02", "E0201", "违法建设", PUBLIC, (1, WH), (1, WH), (4, WH)),
    ("E02", "E0202", "施工扰民", PUBLIC, (1, WH), (1, WH), (4, WH)),
    ("E02", "E0203", "工地扬尘", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("E03", "E0301", "占道经营", PUBLIC, (1, WH), (1, WH), (2, WH)),
    ("E03", "E0302", "机动车乱停放", PUBLIC, (1, WH), (1, WH), (2, WH)),
    ("E03", "E0303", "非机动车乱停放", SMALL, (1, WH), (1, WH), (4, WH)),
    ("E03", "E0304", "噪声扰民", PUBLIC, (1, WH), (1, WH), (4, WH)),
    ("E04", "E0401", "路面塌陷", PUBLIC, (15, M), (30, M), (4, H)),
    ("E04", "E0402", "燃气泄漏", PUBLIC, (10, M), (15, M), (2, H)),
    ("E04", "E0403", "水管爆裂", PUBLIC, (15, M), (30, M), (4, H)),
    ("E04", "E0404", "火情", PUBLIC, (5, M), (10, M), (2, H)),
    ("E05", "E0501", "邻里纠纷", SMALL, (2, WH), (1, WD), (10, WD)),
    ("E05", "E0502", "家庭纠纷", PRIVATE, (2, WH), (1, WD), (10, WD)),
    ("E05", "E0503", "物业纠纷", SMALL, (2, WH), (1, WD), (15, WD)),
    ("E05", "E0504", "劳资纠纷", PUBLIC, (2, WH), (1, WD), (15, WD)),
    ("E06", "E0601", "消防通道堵塞", PUBLIC, (1, WH), (1, WH), (4, WH)),
    ("E06", "E0602", "电动车违规充电", SMALL, (1, WH), (1, WH), (1, WD)),
    ("E06", "E0603", "高空坠物隐患", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("E06", "E0604", "危房险情", PUBLIC, (30, M), (1, WH), (1, WD)),
    ("E07", "E0701", "病媒生物孳生", PUBLIC, (1, WH), (2, WH), (3, WD)),
    ("E07", "E0702", "污水外溢", PUBLIC, (1, WH), (1, WH), (1, WD)),
    ("E07", "E0703", "公共卫生事件", PUBLIC, (30, M), (1, WH), (1, WD)),
    ("E08", "E0801", "独居老人帮扶", SMALL, (2, WH), (4, WH), (2, WD)),
    ("E08", "E0802", "政策咨询", SMALL, (2, WH), (4, WH), (3, WD)),
]
