"""Personal data outside the residents' records (a nested app, label `privacy`).

The reveal-with-a-reason and its log for the names and phones other apps keep
(reporters of cases and received reports, people who order a volunteer), the
register of processing activities (个人信息处理活动记录) each app declares, and
the retention sweep that anonymises what has been kept long enough
(PIPL art. 19 and 47). It sits in the grid layer: it needs places and posts,
and the domain apps register into it from their AppConfig.ready().
"""
