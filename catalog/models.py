"""The source tables: what editors edit and the search index is built from."""

from urllib.parse import urlsplit

from django.db import models
from django.urls import reverse

from catalog.search.embedding import ItemVector
from catalog.search.index import SearchDocument, SearchIndex, SearchKind
from catalog.search.overlay import SearchOverlay, SearchPending
from catalog.search.refresh_models import SearchRefresh, SearchRefreshRequest
from catalog.search.triggers import pending_triggers
from catalog.search.vocabulary import SearchWord, Synonym

__all__ = [
    "Category",
    "Item",
    "ItemTag",
    "ItemVector",
    "SearchDocument",
    "SearchIndex",
    "SearchKind",
    "SearchOverlay",
    "SearchPending",
    "SearchRefresh",
    "SearchRefreshRequest",
    "SearchWord",
    "Synonym",
    "Tag",
]

WEB_SCHEMES = frozenset({"http", "https"})


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        triggers = pending_triggers(
            changed_items="SELECT item.id FROM catalog_item AS item JOIN {rows} AS c ON c.id = item.category_id"
        )

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        triggers = pending_triggers(
            changed_items="SELECT link.item_id FROM catalog_itemtag AS link JOIN {rows} AS t ON t.id = link.tag_id"
        )

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    class Priority(models.TextChoices):
        REQUIRED = "required"
        IMPORTANT = "important"
        STANDARD = "standard"
        OPTIONAL = "optional"
        EXTRA = "extra"

    name = models.CharField(max_length=200, unique=True)
    summary = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    tags = models.ManyToManyField(Tag, through="ItemTag", related_name="items", blank=True)
    homepage = models.URLField(max_length=500, blank=True)
    version = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=200, blank=True)
    installed_size_kb = models.PositiveIntegerField(default=0)
    priority = models.CharField(max_length=20, choices=Priority, default=Priority.OPTIONAL)
    popularity = models.PositiveIntegerField(
        default=0,
        help_text="How much the catalog relies on the item (for packages: how many others depend on it). "
        "Search ranks well-known items ahead of obscure ones with equally good matches.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        triggers = pending_triggers(changed_items="SELECT id FROM {rows}")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", args=[self.name])

    @property
    def homepage_link(self) -> str | None:
        """The homepage if it is a web address, to link to.

        The admin validates it as a URL, but an import or plain SQL may store
        anything: a ``javascript:`` or ``data:`` address is shown as text, never linked.
        """
        return self.homepage if urlsplit(self.homepage).scheme.lower() in WEB_SCHEMES else None


class ItemTag(models.Model):
    """The item-tag link, explicit so that it can carry a trigger."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "tag"], name="catalog_itemtag_unique")]
        indexes = [models.Index(fields=["tag", "item"], name="catalog_itemtag_tag_item")]
        triggers = pending_triggers(changed_items="SELECT item_id FROM {rows}")

    def __str__(self) -> str:
        return f"{self.item_id}:{self.tag_id}"
