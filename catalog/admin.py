"""The editors' side: items, categories, tags, synonyms, and the search index's refreshes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from catalog.models import Category, Item, ItemTag, SearchPending, SearchRefresh, SearchRefreshRequest, Synonym, Tag
from catalog.search.freshness import duration_text, index_status
from catalog.search.refresh import request_refresh

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class SearchState(TypedDict):
    """What ItemAdmin's queryset adds to each item: where its latest change stands."""

    search_pending: bool
    search_requested: bool


class ItemTagInline(admin.TabularInline):
    model = ItemTag
    autocomplete_fields = ["tag"]
    extra = 1


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "summary", "category", "popularity", "version", "updated_at", "searchable"]
    list_filter = ["category", "priority"]
    search_fields = ["name", "summary"]
    autocomplete_fields = ["category"]
    inlines = [ItemTagInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        """Each item with its search state, in the page's one query rather than one query per row."""
        return (
            super()
            .get_queryset(request)
            .annotate(
                search_pending=Exists(SearchPending.objects.filter(item_id=OuterRef("pk"))),
                search_requested=Exists(SearchRefreshRequest.objects.filter(item_id=OuterRef("pk"))),
            )
        )

    @admin.display(description="searchable")
    def searchable(self, item: WithAnnotations[Item, SearchState]) -> str:
        """An edit is searchable at once (the overlay); an import's change only after the next refresh."""
        if item.search_pending:
            return "yes, edited since the last compaction"
        if item.search_requested:
            return "after the next refresh"
        return "yes, indexed"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    """Applied when searching, so a change works at once without a refresh."""

    list_display = ["words"]
    search_fields = ["words"]


@admin.register(SearchRefresh)
class SearchRefreshAdmin(admin.ModelAdmin):
    """The refresh history, the index's freshness, and a "Refresh search now" button."""

    list_display = ["started_at", "kind", "duration", "items_claimed", "outcome", "error"]
    list_filter = ["kind", "outcome"]

    # The history is a record of what the refresher did: read-only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SearchRefresh | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SearchRefresh | None = None) -> bool:
        return False

    @admin.display(description="duration", ordering="duration_seconds")
    def duration(self, refresh: SearchRefresh) -> str:
        return duration_text(refresh.duration_seconds)

    def get_urls(self) -> list[URLPattern]:
        refresh = path("refresh/", self.admin_site.admin_view(self.refresh_now), name="catalog_refresh_now")
        return [refresh, *super().get_urls()]

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        """Superusers have every permission; other staff need it granted."""
        return request.user.has_perm("catalog.refresh_search")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {"index": index_status(), "can_refresh": self.has_refresh_permission(request)}
        return super().changelist_view(request, {**(extra_context or {}), **context})

    @method_decorator(require_POST)
    def refresh_now(self, request: HttpRequest) -> HttpResponseRedirect:
        if not self.has_refresh_permission(request):
            raise PermissionDenied
        request_refresh()
        if index_status().worker_alive:
            self.message_user(request, "Refresh requested: the refresher runs it now.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                "Refresh requested, but no refresher is running: start `manage.py search_worker`.",
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:catalog_searchrefresh_changelist"))
