"""The contact page's privacy panel: the export and erase buttons, or who erased the contact and when."""

from django import template

from accord.core.permissions import Action, can
from accord.privacy import selectors

register = template.Library()


@register.simple_tag
def erasure_of(contact):
    """Return the contact's Erasure, or None: `{% erasure_of contact as erasure %}`."""
    return selectors.erasure_of(contact_id=contact.pk)


@register.inclusion_tag("privacy/_actions.html", takes_context=True)
def personal_data_actions(context, contact, erasure=None):
    user = context["request"].user
    return {
        "contact": contact, "erasure": erasure,
        "can_export": can(user, Action.EXPORT_PERSONAL_DATA),
        "can_erase": can(user, Action.ERASE_PERSONAL_DATA) and erasure is None,
    }
