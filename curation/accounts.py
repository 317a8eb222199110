"""Staff accounts for curators and editors: made by an administrator on the command
line (``manage.py create_curator``), never with a password chosen for someone else.

An account gets a one-time link to set its own password: Django's password-reset
token, which stops working once the password is set (the token hashes the password)
or after ``PASSWORD_RESET_TIMEOUT``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from curation.roles import CURATORS, EDITORS

# The role names a command line takes, and the group each one is.
ROLES = {"curator": CURATORS, "editor": EDITORS}


@dataclass
class AccountResult:
    user: object
    created: bool
    # The role the account had before, when it had one and it changed.
    previous_role: str | None = None


def _role_of(user) -> str | None:
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role, group in ROLES.items() if group in names), None)


@transaction.atomic
def account_set_role(*, email: str, role: str) -> AccountResult:
    """Create a staff account for ``email`` (its username too) in ``role``'s group, or
    move an existing one into it: an account is in one role only, so the other role's
    group is taken away."""
    if role not in ROLES:
        raise ValidationError(f"“{role}” is not a role: use one of {', '.join(ROLES)}.")
    email = email.strip()
    validate_email(email)
    User = get_user_model()
    user = User.objects.select_for_update().filter(username__iexact=email).first()
    created = user is None
    if created:
        # No usable password: the account's owner sets one through the link.
        user = User.objects.create_user(username=email, email=email, password=None)
    previous = None if created else _role_of(user)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.remove(*Group.objects.filter(name__in=ROLES.values()))
    user.groups.add(Group.objects.get(name=ROLES[role]))
    return AccountResult(
        user=user, created=created, previous_role=previous if previous != role else None
    )


def account_password_link(*, user, base_url: str) -> str:
    """A one-time link for ``user`` to choose their password (the admin's
    password-reset confirm page)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path
