from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_pending_field_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchpending",
            name="merged",
            field=models.BooleanField(db_default=False, default=False),
        ),
        # Every refresh before this one was a compaction.
        migrations.AddField(
            model_name="searchrefresh",
            name="kind",
            field=models.CharField(
                choices=[("merge", "Merge"), ("compaction", "Compaction")], default="compaction", max_length=10
            ),
            preserve_default=False,
        ),
    ]
