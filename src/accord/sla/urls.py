from django.urls import path

from accord.sla import views

urlpatterns = [
    path("sla/", views.sla_page, name="sla"),
    path("sla/versions/<int:number>/", views.sla_version, name="sla-version"),
]
