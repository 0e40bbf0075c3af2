from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}"
{%- set verbose_name = cookiecutter.project_name|python_string %}
    # The project's name as you typed it: the admin's title.
    verbose_name = {{ verbose_name }}{% if verbose_name|length > 70 %}  # noqa: E501{% endif %}
