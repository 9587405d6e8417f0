"""Forms for the handoff pages: reject with a reason, log an activity, reassign, move a stage, routing."""

from __future__ import annotations

import uuid

from django import forms

from accord.lifecycle.models import Activity
from accord.lifecycle.services import offered_rejection_reasons


class RejectForm(forms.Form):
    """Reject a lead with one of the active reasons of the editable taxonomy, and a note."""

    reason = forms.ChoiceField()
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once per form: the queue renders one form for all its rows' dialogs.
        self.reasons = offered_rejection_reasons()
        self.fields["reason"].choices = [("", "Choose a reason…"), *[(r.code, r.label) for r in self.reasons]]


class ReplyForm(forms.Form):
    """A reply on a feedback thread (posted to the quality pages' reply view)."""

    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), label="Reply")
    client_key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: uuid.uuid4().hex)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    outcome = forms.ChoiceField(choices=Activity.Outcome.choices, required=False)
    subject = forms.CharField(required=False, max_length=200)
    body = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                           label="Notes")
    duration_minutes = forms.IntegerField(required=False, min_value=0, max_value=24 * 60, label="Minutes")
    # One token per rendered form: a double click or a resubmitted page logs the activity once.
    client_key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: uuid.uuid4().hex)


class WaitForm(forms.Form):
    note = forms.CharField(max_length=500, label="What are you waiting for?",
                           widget=forms.TextInput(attrs={"placeholder": "Sent the contract, they review Monday"}))


class ConvertForm(forms.Form):
    name = forms.CharField(required=False, max_length=200, label="Deal name")
    amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)


class ReassignForm(forms.Form):
    owner = forms.ChoiceField(label="Give to")

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("rule", "Whoever the routing rules pick next"),
                                        *[(str(person.pk), str(person)) for person in owners]]


class StageForm(forms.Form):
    to_stage = forms.ChoiceField(label="Move to")
    reason = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, stages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [(stage.value, stage.label) for stage in stages]


class RoutingForm(forms.Form):
    source = forms.CharField(widget=forms.Textarea(attrs={"rows": 28, "spellcheck": "false", "class": "code"}),
                             max_length=100_000, label="Routing document (YAML)")
