"""Password validators Django does not ship (reliability.md A2), listed in AUTH_PASSWORD_VALIDATORS.

Django's own validators stay (length >= 10, not common, not all digits, not like the username); these add the
等保 level-3 practice of several character classes (reliability.md §2, evaluator practice [S8]) and ASVS 2.1.2's
upper bound, which refuses a longer password rather than silently cutting it (ASVS 2.1.3).
"""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> set[str]:
    """The classes present: lower and upper case ASCII letters, digits, and symbols (anything else, including
    punctuation, spaces and non-Latin characters)."""
    classes = set()
    for char in password:
        if char in string.ascii_lowercase:
            classes.add("lower")
        elif char in string.ascii_uppercase:
            classes.add("upper")
        elif char in string.digits:
            classes.add("digit")
        else:
            classes.add("symbol")
    return classes


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _(
                    "This password mixes too few kinds of characters: use at least %(min_classes)d of lower-case "
                    "letters, upper-case letters, digits and symbols."
                ),
                code="password_too_few_character_classes",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self):
        return _(
            "Your password must use at least %(min_classes)d of: lower-case letters, upper-case letters, digits, "
            "symbols."
        ) % {"min_classes": self.min_classes}


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long: use at most %(max_length)d character.",
                    "This password is too long: use at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self):
        return ngettext(
            "Your password can have at most %(max_length)d character.",
            "Your password can have at most %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}
