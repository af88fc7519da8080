"""Sign-in, sign-out, the organisation switch and the members page."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import tokens_pages, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisation/", views.switch, name="organisation-switch"),
    path("organisation/members/", views.members, name="members"),
    path("organisation/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("organisation/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("account/tokens/", tokens_pages.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens_pages.token_revoke, name="token-revoke"),
]
