"""The upload form for a CSV import."""

from __future__ import annotations

from django import forms

from accord.imports.cli import KIND_CHOICES, PRESET_CHOICES
from accord.imports.presets import AD_PRESETS, PRESET_LABELS

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # about a million wide rows; HubSpot's own cap is similar


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds", choices=[(kind, kind.capitalize()) for kind in KIND_CHOICES]
    )
    preset = forms.ChoiceField(
        label="Exported by",
        required=False,
        choices=[("", "Detect from the header"), *[(p, PRESET_LABELS[p]) for p in PRESET_CHOICES]],
        help_text="Google Ads, Microsoft Advertising, Meta and LinkedIn cost reports import as costs.",
    )
    encoding = forms.CharField(
        label="Encoding", required=False, max_length=40,
        help_text="Leave empty to detect UTF-8, UTF-16 or Latin-1.",
    )
    file = forms.FileField(label="CSV file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 1 GB; split it or use `accord import`.")
        return upload

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("preset")
        if preset in AD_PRESETS and cleaned.get("kind") != "costs":
            self.add_error(
                "preset", f"A {PRESET_LABELS[preset]} report holds campaign costs: choose “Costs” above."
            )
        return cleaned

    def clean_encoding(self):
        import codecs

        value = self.cleaned_data["encoding"].strip()
        if value:
            try:
                codecs.lookup(value)
            except LookupError:
                raise forms.ValidationError(f"Unknown encoding {value!r}.") from None
        return value
