from django.db import migrations

# A snapshot, not an import of crm.defaults: a migration must not change when the code does.
ACTION_TYPES = [
    ("appointment", "Appointment", True, "#1a73e8", 60),
    ("call", "Call", False, "#0b8043", 15),
    ("task", "Task", False, "#f09300", 30),
    ("email", "E-mail", False, "#8e24aa", 15),
    ("intervention", "Intervention", False, "#d50000", 120),
]


def create_action_types(apps, schema_editor):
    ActionType = apps.get_model("crm", "ActionType")
    for position, (code, name, is_appointment, color, duration) in enumerate(ACTION_TYPES):
        ActionType.objects.get_or_create(code=code, defaults={
            "name": name, "is_appointment": is_appointment, "color": color,
            "default_duration": duration, "position": position,
        })


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(create_action_types, migrations.RunPython.noop)]
