"""Creates data schema 0, the built-in default: any JSON object."""

from django.db import migrations

BUILTIN = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}


def create_builtin(apps, schema_editor):
    DataSchema = apps.get_model("assets", "DataSchema")
    DataSchema.objects.update_or_create(id=0, defaults={"account": None, "name": "default", "schema": BUILTIN})


def remove_builtin(apps, schema_editor):
    apps.get_model("assets", "DataSchema").objects.filter(id=0).delete()


class Migration(migrations.Migration):
    dependencies = [("assets", "0001_initial")]
    operations = [migrations.RunPython(create_builtin, remove_builtin)]
