from django import forms


class ErasureForm(forms.Form):
    confirm = forms.CharField(
        label="Type the contact's email, or the word “erase”", max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label="Request or ticket reference (optional)", max_length=500, required=False,
        help_text="Kept with the erasure record. Do not write the person's name or email here.",
    )
