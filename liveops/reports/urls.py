from django.urls import path

from liveops.reports import views

app_name = "reports"

# Mounted under /w/<ws>/reports/.
urlpatterns = [
    path("", views.report_index, name="index"),
    path("period/", views.period_page, name="period"),
    path("sessions/<int:pk>/", views.review_page, name="review"),
    path("sessions/<int:pk>/review.pdf", views.review_pdf, name="review_pdf"),
    path("sessions/<int:pk>/review.xlsx", views.review_xlsx, name="review_xlsx"),
    path("sessions/<int:pk>/actions/", views.action_create, name="action_create"),
]
