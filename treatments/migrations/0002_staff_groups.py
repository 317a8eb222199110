from django.db import migrations

from curation.roles import groups_sync


def create_groups(apps, schema_editor):
    groups_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0001_initial"),
        ("findings", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
