from django.urls import path

from accord.imports import views

urlpatterns = [
    path("imports/", views.upload, name="imports"),
]
