"""django-otp's TOTP device admin, with its two extra pages answering 404 for a device that
does not exist (django-otp's own `TOTPDevice.objects.get` makes that a 500).

Administrators enrol their own device at /accounts/two-factor/setup/ (the second-factor
gate sends them there); this admin is for a superuser looking after other people's devices.
"""

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice


class RegistryTOTPDeviceAdmin(TOTPDeviceAdmin):
    def config_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, RegistryTOTPDeviceAdmin)
