"""URLs of the case pages, the intake channels and the alarm webhook.

The worker's queue (hub/) and the officials' dashboards (dashboards/) compose
several apps and live in the top layer, but keep their names in this
namespace (`cases:queue`, `cases:dashboard`...): portal/urls.py mounts them here.
"""

from django.urls import path

from portal.lazy_views import view_modules

(api, mediation_api, views, views_chief, views_inbox, views_location, views_mediation, views_orgs, views_public,
 views_whistle) = view_modules(__package__, "api", "mediation_api", "views", "views_chief", "views_inbox",
                               "views_location", "views_mediation", "views_orgs", "views_public", "views_whistle")

app_name = "cases"

urlpatterns = [
    # Residents (no sign-in).
    path("report/", views_public.report, name="report"),
    path("report/b/<int:building_id>/", views_public.report, name="report_building"),
    path("report/where/", views_location.report_where, name="report_where"),
    path("report/at/<int:building_id>/", views_location.report_at, name="report_at"),
    path("report/done/<str:code>/", views_public.report_done, name="report_done"),
    path("report/places/", views_public.places, name="places"),
    path("track/", views_public.track_lookup, name="track_lookup"),
    path("track/<str:code>/", views_public.track, name="track"),
    path("track/<str:code>/rate/", views_public.track_rate, name="track_rate"),
    path("track/<str:code>/photos/<int:photo_id>/", views_public.track_photo, name="track_photo"),
    # Grid workers (phone) and staff.
    path("cases/", views.board, name="board"),
    path("cases/export.csv", views.export, name="export"),
    path("cases/patrol/", views.patrol, name="patrol"),
    path("cases/see/", views_chief.chief_report, name="chief_report"),
    path("cases/hotline/", views.hotline, name="hotline"),
    path("cases/org/", views_orgs.org_queue, name="org_queue"),
    path("cases/command/", views_orgs.command_centre, name="command_centre"),
    path("cases/command/<int:street_id>/", views_orgs.command_centre, name="command_centre_street"),
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/read/", views_inbox.inbox_read, name="inbox_read"),
    path("cases/<int:pk>/", views.detail, name="detail"),
    path("cases/<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("cases/<int:pk>/reporter/", views.reporter_reveal, name="reporter_reveal"),
    path("cases/<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    # The mediation file (调解卷宗) of a dispute case.
    path("mediation/", views_mediation.files, name="mediation_files"),
    path("cases/<int:pk>/mediation/", views_mediation.file_page, name="mediation"),
    path("cases/<int:pk>/mediation/act/<slug:name>/", views_mediation.act, name="mediation_act"),
    path("cases/<int:pk>/mediation/sessions/<int:session_id>/held/", views_mediation.session_held,
         name="mediation_session_held"),
    path("cases/<int:pk>/mediation/parties/<int:party_id>/reveal/", views_mediation.party_reveal,
         name="mediation_party_reveal"),
    path("cases/<int:pk>/mediation/parties/<int:party_id>/<slug:name>/", views_mediation.party_change,
         name="mediation_party_change"),
    path("cases/<int:pk>/mediation/files/<int:file_id>/", views_mediation.file_download, name="mediation_file"),
    path("cases/<int:pk>/mediation/print/<slug:doc>/", views_mediation.print_document, name="mediation_print"),
    # 诉调/警调/访调对接: referrals pushed by courts, police stations and petition offices (API key).
    path("api/mediation/v1/referrals/", mediation_api.referrals, name="mediation_referrals"),
    path("api/mediation/v1/referrals/<str:reference>/", mediation_api.referral, name="mediation_referral"),
    # 吹哨报到: the organisations' report-in (phone) and the whistling place's rating.
    path("whistles/", views_whistle.staff_summonses, name="summonses"),
    path("whistles/<int:pk>/report-in/", views_whistle.report_in, name="report_in"),
    path("cases/<int:pk>/whistles/<int:whistle_id>/rate/", views_whistle.rate, name="whistle_rate"),
    # Cameras and one-click alarms (微天网).
    path("api/alarms/", api.alarm, name="alarm"),
]
