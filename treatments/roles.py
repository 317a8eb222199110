"""The two staff roles and their model permissions.

Read by the data migration that creates the groups and by the tests that check
them, so that the roles are written down once.
"""

CURATED_MODELS = [
    ("findings", "source"),
    ("findings", "abnormality"),
    ("findings", "labtest"),
    ("findings", "finding"),
    ("treatments", "therapy"),
    ("treatments", "therapyevidence"),
    ("treatments", "regulatorystatus"),
]

CURATORS = "Curators"
EDITORS = "Editors"

# Curators create and edit drafts and submit them; they delete nothing.
# Editors also publish, reject and retract (review_*) and may delete: a delete
# that would orphan knowledge is refused by PROTECT anyway.
ROLE_ACTIONS = {
    CURATORS: ("view", "add", "change"),
    EDITORS: ("view", "add", "change", "delete", "review"),
}


def role_permission_codenames(role: str) -> list[tuple[str, str]]:
    """(app_label, codename) pairs for one role."""
    return [
        (app_label, f"{action}_{model}")
        for app_label, model in CURATED_MODELS
        for action in ROLE_ACTIONS[role]
    ]


def groups_sync(apps) -> None:
    """Create or update the groups; ``apps`` is a migration's app registry or django.apps."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations run: make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLE_ACTIONS:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = role_permission_codenames(role)
        perms = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.set(perms)
