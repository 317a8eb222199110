"""The two staff roles and their model permissions.

Read by the data migration that creates the groups and by the tests that check
them, so that the roles are written down once.
"""

CURATORS = "Curators"
EDITORS = "Editors"

# Curators create and edit drafts and submit them; they delete nothing.
# Editors also publish, reject and retract (review_*) and may delete: a delete
# that would orphan knowledge is refused by PROTECT anyway.
ROLE_ACTIONS = {
    CURATORS: ("view", "add", "change"),
    EDITORS: ("view", "add", "change", "delete", "review"),
}

# Permissions on models that are not curated. Both roles read suggested revisions (the
# admin and the API): curators their own, with the editor's note; editors all of them
# (``Suggestion.objects.visible_to``). Nobody adds or changes one directly: they come
# from edits and change through the review service (curation/revisions.py).
ROLE_EXTRA_PERMISSIONS = {
    CURATORS: (("curation", "suggestion", "view"),),
    EDITORS: (("curation", "suggestion", "view"),),
}


def curated_models(apps) -> list[tuple[str, str]]:
    """(app_label, model_name) of every curated model: those that declare a
    ``review_<model>`` permission (every ``Moderated`` subclass does). Read from
    ``apps``, so that a migration's historical registry gives the models of its time
    and this app needs to know none of them by name."""
    found = []
    for model in apps.get_models():
        opts = model._meta
        if any(code == f"review_{opts.model_name}" for code, _ in opts.permissions):
            found.append((opts.app_label, opts.model_name))
    return sorted(found)


def role_permission_codenames(role: str, apps=None) -> list[tuple[str, str]]:
    """(app_label, codename) pairs for one role."""
    if apps is None:
        from django.apps import apps
    curated = [
        (app_label, f"{action}_{model}")
        for app_label, model in curated_models(apps)
        for action in ROLE_ACTIONS[role]
    ]
    extra = [
        (app_label, f"{action}_{model}")
        for app_label, model, action in ROLE_EXTRA_PERMISSIONS[role]
        # A migration's registry may predate the model; post_migrate adds it later.
        if _installed(apps, app_label, model)
    ]
    return curated + extra


def _installed(apps, app_label: str, model: str) -> bool:
    try:
        apps.get_model(app_label, model)
    except LookupError:
        return False
    return True


def groups_sync(apps) -> None:
    """Create or update the groups; ``apps`` is a migration's app registry or django.apps."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations run: make sure they exist now.
    # (A migration's registry has no models modules; django.apps has them, and keeps them.)
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLE_ACTIONS:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = role_permission_codenames(role, apps)
        perms = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.set(perms)
