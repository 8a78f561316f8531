"""An index of the films showing the inclusion rule's collapse (RFVH at most 80 %).

The cohort selection of whole tables reads the visits of those films; from this partial
index alone (an index-only scan) instead of the whole radiograph table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_access_log_refuses_truncate"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="radiographicmeasurement",
            index=models.Index(
                condition=models.Q(("rfvh_percent__lte", 80)),
                fields=["visit"],
                name="radiograph_collapsed_idx",
            ),
        ),
    ]
