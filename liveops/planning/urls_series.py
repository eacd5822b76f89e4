from django.urls import path

from liveops.planning import views_series as views

# Series, calendar, frequency planning and feeds; no object ids in paths (ids travel in
# the query or the POST body and are looked up inside the workspace).
urlpatterns = [
    path("series/", views.series_list, name="series_list"),
    path("series/new/", views.series_create, name="series_create"),
    path("series/edit/", views.series_edit, name="series_edit"),
    path("series/generate/", views.series_generate, name="series_generate"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/reschedule/", views.calendar_reschedule, name="calendar_reschedule"),
    path("calendar/settings/", views.calendar_settings, name="calendar_settings"),
    path("calendar/rooms/", views.calendar_room_create, name="calendar_room_create"),
    path("frequency/", views.frequency, name="frequency"),
    path("frequency/target/", views.frequency_target, name="frequency_target"),
    path("feeds/", views.feed_list, name="feed_list"),
    path("feeds/new/", views.feed_create, name="feed_create"),
    path("feeds/revoke/", views.feed_revoke, name="feed_revoke"),
    path("feeds/<str:token>.ics", views.feed_ics, name="feed_ics"),
]
