from django.db import migrations

from catalog.search.triggers import MARK_PENDING_SQL

# mark_pending.sql as it is now: a bulk import records each item once per
# statement (DISTINCT over the ids; it was over id and time, which kept every row).


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_merge_before_compaction"),
    ]

    operations = [
        migrations.RunSQL(MARK_PENDING_SQL, migrations.RunSQL.noop),
    ]
