from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_refresh_requests"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="searchrefresh",
            options={
                "get_latest_by": "started_at",
                "ordering": ["-started_at"],
                "permissions": [("refresh_search", "Can refresh the search index now")],
                "verbose_name_plural": "search refreshes",
            },
        ),
    ]
