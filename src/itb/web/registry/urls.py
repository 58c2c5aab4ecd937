from django.urls import path

from itb.web.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.patient_list, name="patient_list"),
]
