# pgvector: the item vectors and their HNSW index (semantic ranking, docs/ranking.md).

from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_mark_pending_distinct_ids"),
    ]

    operations = [
        VectorExtension(),
    ]
