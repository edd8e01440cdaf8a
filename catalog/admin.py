from django.contrib import admin

from catalog.models import Category, Item, ItemTag, Tag


class ItemTagInline(admin.TabularInline):
    model = ItemTag
    autocomplete_fields = ["tag"]
    extra = 1


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "summary", "category", "version", "updated_at"]
    list_filter = ["category", "priority"]
    search_fields = ["name", "summary"]
    autocomplete_fields = ["category"]
    inlines = [ItemTagInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]
