"""The signing password field, one definition for the pages and the API.

A password is compared exactly as typed, as Django's log-in form does (strip=False): a
password that begins or ends with a space signs on every path, and the same password
without the space signs on none.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class SigningPasswordField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Your password"))
        kwargs.setdefault("widget", forms.PasswordInput(attrs={"autocomplete": "current-password"}))
        super().__init__(strip=False, **kwargs)


class SigningPasswordSerializerField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(trim_whitespace=False, write_only=True, **kwargs)
