from django.db import migrations

TECHNIQUES = [
    ("PVP", "Percutaneous vertebroplasty",
     "Cement injected through a trocar straight into the vertebral body."),
    ("PKP", "Percutaneous (balloon) kyphoplasty",
     "A balloon tamp makes a cavity, then cement fills it."),
    ("VESSELPLASTY", "Vesselplasty",
     "A mesh container is placed and filled with cement inside the body."),
    ("VBS", "Vertebral body stent", "A balloon-expanded metal stent, then cement."),
]


def add_techniques(apps, schema_editor):
    Technique = apps.get_model("registry", "Technique")
    for order, (code, name, description) in enumerate(TECHNIQUES, start=1):
        Technique.objects.update_or_create(
            code=code, defaults={"name": name, "description": description, "display_order": order}
        )


def remove_techniques(apps, schema_editor):
    apps.get_model("registry", "Technique").objects.filter(
        code__in=[code for code, _, _ in TECHNIQUES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(add_techniques, remove_techniques)]
