from django.urls import path

from accord.capture import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact"),
    path("accounts/", views.account_list, name="accounts"),
    path("campaigns/", views.campaign_list, name="campaigns"),
]
