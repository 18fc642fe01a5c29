"""The 12345 moves on the case page (cases/views.py adds them to its actions): reply (回单),
hand back (退单), follow-up call (回访). Each: (label, form, run, done message, style)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .models import VisitResult


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply sent to the hotline"), max_length=services.REPLY_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why it is not ours"), max_length=services.REPLY_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}))


class VisitForm(forms.Form):
    result = forms.ChoiceField(label=_("What the caller said"), choices=VisitResult.choices)
    note = forms.CharField(label=_("Note"), max_length=services.REPLY_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


HOTLINE_ACTIONS = {
    "hotline_reply": (_("Reply to the hotline (回单)"), ReplyForm,
                      lambda c, u, d, now: services.order_reply(case=c, text=d["text"], acting_user=u, now=now),
                      _("Reply recorded for case %(number)s."), ""),
    "hotline_visit": (_("Record the follow-up call (回访)"), VisitForm,
                      lambda c, u, d, now: services.order_visit(case=c, result=d["result"], note=d["note"],
                                                                acting_user=u, now=now),
                      _("Follow-up call recorded for case %(number)s."), ""),
    "hotline_return": (_("Hand back to the hotline (退单)"), ReturnForm,
                       lambda c, u, d, now: services.order_return(case=c, reason=d["reason"], acting_user=u,
                                                                  now=now),
                       _("Case %(number)s handed back to the hotline."), "danger"),
}
