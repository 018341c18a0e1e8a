import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forget_bodies(apps, schema_editor):
    """Bodies kept so far belong to no one in particular: devices send theirs again at their next write."""
    apps.get_model("devices", "DeviceObject").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0002_device_names_per_calendar"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(forget_bodies, migrations.RunPython.noop),
        migrations.AlterField(model_name="deviceobject", name="uid", field=models.CharField(max_length=255)),
        migrations.AddField(
            model_name="deviceobject", name="user",
            field=models.ForeignKey(default=None, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to=settings.AUTH_USER_MODEL),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="deviceobject",
            constraint=models.UniqueConstraint(fields=("user", "uid"), name="device_object_once_per_user"),
        ),
    ]
