# btree_gin: the category as a key of the search index's document GIN indexes
# (catalog/search/index.py); django-pgviews-redux creates those after migrate.

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0013_item_vectors"),
    ]

    operations = [
        BtreeGinExtension(),
    ]
