from django import forms


class PublishForm(forms.Form):
    source = forms.CharField(
        label="SLA document (YAML)", max_length=100_000, strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code-editor"}),
    )
    note = forms.CharField(label="What changed, and why", max_length=500, required=False)
