import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules and URL patterns) lives as long as the process: it
# is moved out of the garbage collector's sight, so that a full collection in the middle of a request walks
# only what requests made. Measured on the staff queue's p95 (docs/performance.md). With gunicorn --preload
# the workers also keep sharing these pages with the master instead of copying them as the collector writes.
gc.freeze()
