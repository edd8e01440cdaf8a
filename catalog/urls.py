from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.search, name="search"),
    path("items/<str:name>/", views.item_detail, name="item"),
    path("api/search", views.api_search, name="api-search"),
    path("api/index-status", views.api_index_status, name="api-index-status"),
]
