"""Each kind of mediation event the services write reads as one line on the staff timeline, in
Chinese with its full-width punctuation, and a party's ID number or phone is never among them."""

import pytest
from django.utils import translation

from cases.mediation_timeline import describe


@pytest.mark.parametrize("data, zh", [
    ({"opened": "（2026）幸福社区调字第001号", "dispute_type": "neighbour", "source": "direct"},
     "受理立卷：（2026）幸福社区调字第001号，"),
    ({"party_added": 7, "role": "respondent"}, "添加当事人：被申请人"),
    ({"party_corrected": 7, "fields": ["name", "id_number"], "reason": "登记时录错"},
     "更正当事人信息：姓名、身份证号。原因：登记时录错"),
    ({"party_removed": 7, "role": "third_party", "reason": "误加"}, "移除误加的当事人：第三人"),
    ({"party_corrected": 7, "fields": ["role", "phone"], "reason": "身份填反"}, "更正当事人信息：身份、电话。"),
    ({"mediator_added": 3}, "指定调解员。"),
    ({"session": 1, "state": "scheduled"}, "安排调解会。"),
    ({"session": 1, "state": "held"}, "召开调解会。"),
    ({"outcome": "failed", "referral": "litigation"}, "引导途径：诉讼"),
    ({"follow_up": "partly"}, "回访："),
    ({"reopened": "agreed", "terms": "赔偿800元", "deadline": "2026-12-01"}, "协议未（完全）履行，重新调解。"),
    ({"file": 4, "kind": "evidence"}, "上传材料："),
])
def test_each_event_reads_as_a_line(data, zh):
    with translation.override("zh-hans"):
        line = describe(data)
    assert zh in line
    assert ":" not in line  # the full-width colon, not an ASCII one beside Chinese


def test_unknown_or_empty_data_says_nothing():
    assert describe({}) == "" and describe(None) == "" and describe({"something": 1}) == ""


def test_an_unknown_code_in_known_data_does_not_raise():
    assert "bogus" in describe({"party_added": 1, "role": "bogus"})


def test_in_english_the_fields_are_listed_with_commas():
    with translation.override("en"):
        line = describe({"party_corrected": 7, "fields": ["name", "role"], "reason": "typo"})
    assert line == "Party's details corrected: full name, Role. Reason: typo"
