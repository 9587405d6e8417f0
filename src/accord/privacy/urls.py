from django.urls import path

from accord.privacy import views

urlpatterns = [
    path("contacts/<int:contact_id>/personal-data/", views.personal_data_download, name="contact-personal-data"),
    path("contacts/<int:contact_id>/erase/", views.erase_page, name="contact-erase"),
]
