from django.urls import path

from liveops.events import views

app_name = "events"

# Mounted under /w/<ws>/analyze/.
urlpatterns = [
    path("", views.session_list_view, name="session_list"),
    path("timeslots/", views.timeslots_view, name="timeslots"),
    path("sessions/<int:pk>/", views.session_data, name="session_data"),
    path("sessions/<int:pk>/import/", views.import_upload, name="import_upload"),
    path("sessions/<int:pk>/imports/<int:job>/", views.import_status, name="import_status"),
]
