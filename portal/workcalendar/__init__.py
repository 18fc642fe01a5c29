"""The working calendar (工作日历): working periods, public holidays and 调休 days.

It sits in the bottom layer, beside the settings: cases, participation and the
volunteers' order escalation all count their deadlines in its working time, so
it may import nothing above `portal`. Its admin is registered by grid (who may
edit it is a question of posts), in grid/admin_reference.py.
"""
