from django.urls import path

from accord.handoff import views

urlpatterns = [
    path("leads/", views.queue, name="leads"),
    path("routing/", views.routing, name="routing"),
    path("leads/<int:contact_id>/", views.lead_detail, name="lead"),
    path("leads/<int:contact_id>/dialogs/<slug:kind>/", views.lead_dialog, name="lead-dialog"),
    path("leads/<int:contact_id>/accept/", views.accept, name="lead-accept"),
    path("leads/<int:contact_id>/reject/", views.reject, name="lead-reject"),
    path("leads/<int:contact_id>/activities/", views.log_activity, name="lead-activity"),
    path("leads/<int:contact_id>/convert/", views.convert, name="lead-convert"),
    path("leads/<int:contact_id>/reassign/", views.reassign, name="lead-reassign"),
    path("leads/<int:contact_id>/stage/", views.change_stage, name="lead-stage"),
    path("leads/<int:contact_id>/waiting/", views.wait, name="lead-wait"),
    path("leads/<int:contact_id>/waiting/end/", views.stop_waiting, name="lead-stop-waiting"),
]
