"""Products lineup, run-of-show, templates and brand profile (mounted under /w/<ws>/plan/).

Item ids (product, segment, cue, template) travel in the POST body; URLs carry only the
session, so every route is addressed through an object the workspace owns."""

from django.urls import path

from liveops.planning import views_runofshow as v

urlpatterns = [
    path("sessions/<int:pk>/run-of-show/", v.ros_detail, name="ros_detail"),
    path("sessions/<int:pk>/run-of-show/print/", v.ros_print, name="ros_print"),
    path("sessions/<int:pk>/run-of-show/export.xlsx", v.ros_export, name="ros_export"),
    path("sessions/<int:pk>/run-of-show/copy/", v.ros_copy, name="ros_copy"),
    path("sessions/<int:pk>/products/save/", v.product_save, name="product_save"),
    path("sessions/<int:pk>/products/delete/", v.product_delete, name="product_delete"),
    path("sessions/<int:pk>/products/reorder/", v.product_reorder, name="product_reorder"),
    path("sessions/<int:pk>/segments/save/", v.segment_save, name="segment_save"),
    path("sessions/<int:pk>/segments/delete/", v.segment_delete, name="segment_delete"),
    path("sessions/<int:pk>/segments/reorder/", v.segment_reorder, name="segment_reorder"),
    path("sessions/<int:pk>/cues/save/", v.segment_cue_save, name="segment_cue_save"),
    path("sessions/<int:pk>/cues/delete/", v.segment_cue_delete, name="segment_cue_delete"),
    path("sessions/<int:pk>/templates/save/", v.template_save, name="template_save"),
    path("sessions/<int:pk>/templates/apply/", v.template_apply, name="template_apply"),
    path("templates/", v.template_list, name="template_list"),
    path("templates/delete/", v.template_delete, name="template_delete"),
    path("brand/", v.brand_profile, name="brand_profile"),
]
