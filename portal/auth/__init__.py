"""Sign-in and its controls (reliability.md §2): lockout (A4), password policy (A2), session limits (A5),
the second factor (A9) and the audit rows of every sign-in event (L1).

A Django app of its own (label `portal_auth`, no models) so that its signal receivers and system checks are
registered when the app registry is ready; the devices are django-otp's and the failure counts django-axes'.
"""
