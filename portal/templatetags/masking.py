"""`{% load masking %}`: the masks of portal.masking as template filters (reliability.md P3)."""

from django import template

from portal import masking

register = template.Library()

register.filter("mask_phone", masking.mask_phone)
register.filter("mask_id_number", masking.mask_id_number)
register.filter("mask_account_number", masking.mask_account_number)
