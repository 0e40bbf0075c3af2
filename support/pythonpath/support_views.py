"""Views a real project would not ship: each imitates one way a production app misbehaves.
Every response names the worker process that served it, so that tests can tell workers apart,
and the CPU time that process has used since it was forked."""

import os
import time

from django.http import HttpResponse, JsonResponse

LEAKED: list[bytes] = []  # what leak() never gives back


def _answer(**fields) -> JsonResponse:
    return JsonResponse({"pid": os.getpid(), "cpu_seconds": time.process_time(), **fields})


def pid(request):
    return _answer()


def sleep(request):
    """Waits like a view blocked on a slow API or database: ?ms=1000."""
    milliseconds = float(request.GET.get("ms", "1000"))
    time.sleep(milliseconds / 1000)
    return _answer(slept_ms=milliseconds)


def cpu(request):
    """Burns ?ms= of this thread's own CPU time, holding the GIL as pure Python does.
    CPU time, not wall time: two such requests sharing one core or one GIL take twice as long."""
    deadline = time.thread_time() + float(request.GET.get("ms", "20")) / 1000
    rounds = 0
    while time.thread_time() < deadline:
        sum(i * i for i in range(500))
        rounds += 1
    return _answer(rounds=rounds)


def leak(request):
    """Keeps ?kib= of fresh, written (so resident) memory forever, like an unbounded cache."""
    kib = int(request.GET.get("kib", "64"))
    LEAKED.append(b"\x01" * (kib << 10))
    return _answer(leaked_kib=kib * len(LEAKED))


def exit_process(request):
    """Ends the worker mid-request without a word, like a crashing C extension."""
    os._exit(70)


# The benchmark's realistic page: a few kilobytes of template, a loop, one query. Compiled once
# per process, as Django's cached template loader does with a project's own templates.
PAGE_ROWS = 8  # rows listed (the query's, cycled): calibrated to about 4 ms of CPU a request
PAGE_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }} | {{ site }}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <header>
    <h1>{{ title|title }}</h1>
    <p>{{ rows|length }} rows from {{ tables|length }} tables, served by worker {{ pid }}.</p>
    <nav>
      {% for table in tables %}
        <a href="#{{ table|slugify }}">{{ table }}</a>{% if not forloop.last %} |{% endif %}
      {% endfor %}
    </nav>
  </header>
  <main>
    <table>
      <thead><tr><th>#</th><th>Name</th><th>Code</th><th>Model</th><th>App</th></tr></thead>
      <tbody>
      {% for row in rows %}
        <tr class="{% cycle 'odd' 'even' %}" id="{{ row.codename|slugify }}-{{ forloop.counter }}">
          <td>{{ forloop.counter }}</td>
          <td>{{ row.name|capfirst|truncatechars:40 }}</td>
          <td><code>{{ row.codename|upper }}</code></td>
          <td>{{ row.content_type.model|title }}</td>
          <td>
            {% if row.content_type.app_label == "auth" %}
              <strong>{{ row.content_type.app_label }}</strong>
            {% else %}
              {{ row.content_type.app_label|default:"-" }}
            {% endif %}
          </td>
        </tr>
      {% empty %}
        <tr><td colspan="5">No rows.</td></tr>
      {% endfor %}
      </tbody>
    </table>
  </main>
  <footer><p>{{ footer|linebreaksbr }}</p></footer>
</body>
</html>
"""
_page_template = None


def page(request):
    """An HTML page as a real view makes one: one database query (the permissions, with
    their content types, from the tables `migrate` made), a loop in a template, filters."""
    global _page_template  # noqa: PLW0603
    from django.contrib.auth.models import Permission
    from django.template import engines

    if _page_template is None:
        _page_template = engines["django"].from_string(PAGE_TEMPLATE)
    rows = list(Permission.objects.select_related("content_type").order_by("id"))
    listed = int(request.GET.get("rows", PAGE_ROWS))
    context = {
        "title": "permissions of this site",
        "site": request.get_host(),
        "pid": os.getpid(),
        "rows": [rows[index % len(rows)] for index in range(listed)] if rows else [],
        "tables": sorted({row.content_type.model for row in rows}),
        "footer": "A benchmark page.\nNothing here is real.",
    }
    return HttpResponse(_page_template.render(context, request))
