from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.search, name="search"),
    # Names may hold a slash (nothing forbids one): a name is the rest of the path.
    path("items/<path:name>/", views.item_detail, name="item"),
    path("api/search", views.api_search, name="api-search"),
    path("api/index-status", views.api_index_status, name="api-index-status"),
]
