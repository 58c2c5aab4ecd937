"""URLs: sign-in, the registry app, the administrator's pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registry/login.html",
                                                redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("itb.web.registry.urls")),
]

# Error pages in the registry's look and the user's language.
handler403 = "itb.web.registry.views.account.forbidden"
handler404 = "itb.web.registry.views.account.not_found"
