"""Sign-in, sign-out, passwords, the organisation switch, the members page and invitations."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import passwords, tokens_pages, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", passwords.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(
        template_name="registration/password_change_done.html"), name="password_change_done"),
    path("password/reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="registration/password_reset_done.html"), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", passwords.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/password_reset_complete.html"), name="password_reset_complete"),
    path("organisation/", views.switch, name="organisation-switch"),
    path("organisation/members/", views.members, name="members"),
    path("organisation/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("organisation/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("organisation/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("account/tokens/", tokens_pages.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens_pages.token_revoke, name="token-revoke"),
]
