from django.urls import path

from accord.capture import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/duplicates/", views.duplicate_list, name="contact-duplicates"),
    path("contacts/merge/", views.merge_preview_page, name="contact-merge"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact"),
    path("accounts/", views.account_list, name="accounts"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign-create"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="campaign-edit"),
    path("capture/sources/", views.source_list, name="capture-sources"),
    path("capture/sources/<int:source_id>/", views.source_detail, name="capture-source"),
    path("capture/<str:public_key>/", views.capture_submit, name="capture-submit"),
]
