"""What the admin site leaves out: the records of third-party apps an operator never
edits (token lists, failure logs, second-factor devices, beat schedules, Django's
groups, which no rule of this service reads). Each is managed through the service's
own API or commands; dropping their pages also drops what a stolen staff session
could do with them.

Autodiscovery imports this module after the third-party apps' own admin modules
(INSTALLED_APPS order), so their registrations exist to be removed.
"""

from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

INTERNAL_MODELS = (
    Group,
    OutstandingToken,
    BlacklistedToken,
    TOTPDevice,
    StaticDevice,
    PeriodicTask,
    ClockedSchedule,
    CrontabSchedule,
    SolarSchedule,
    IntervalSchedule,
    AccessLog,
    AccessFailureLog,
)

for _model in INTERNAL_MODELS:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
